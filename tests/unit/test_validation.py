"""Body validation: keywords and pointers of errors, formats really checked, row intent matching."""

from __future__ import annotations

from typing import Any

import pytest

from core.records import DataRow, RowKind
from core.schema.validation import problems_of, validate_body, validate_rows
from core.schema.walk import InvalidSchemaError

ORDER: dict[str, Any] = {
    "type": "object",
    "required": ["customer", "items"],
    "additionalProperties": False,
    "properties": {
        "customer": {
            "type": "object",
            "required": ["name", "email"],
            "properties": {
                "name": {"type": "string", "minLength": 2},
                "email": {"type": "string", "format": "email"},
                "site": {"type": "string", "format": "uri"},
            },
        },
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "properties": {
                    "sku": {"type": "string", "pattern": "^SKU-[0-9]{6}$"},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 999},
                },
            },
        },
        "placed_at": {"type": "string", "format": "date-time"},
        "ship_on": {"type": "string", "format": "date"},
        "request_id": {"type": "string", "format": "uuid"},
    },
}

GOOD: dict[str, Any] = {
    "customer": {"name": "Li Na", "email": "li.na@example.com", "site": "https://example.com/li"},
    "items": [{"sku": "SKU-000001", "quantity": 2}, {"sku": "SKU-000002", "quantity": 1}],
    "placed_at": "2024-05-01T10:30:00Z",
    "ship_on": "2024-05-03",
    "request_id": "0b5f7a3e-58a4-4c7e-9d0e-2f4f0d1c9a11",
}


def with_changes(**changes: Any) -> dict[str, Any]:
    body = {**GOOD, "customer": dict(GOOD["customer"]), "items": [dict(item) for item in GOOD["items"]]}
    body.update(changes)
    return body


def places(body: Any) -> list[tuple[str, str]]:
    return [(error["keyword"], error["pointer"]) for error in validate_body(ORDER, body)]


def test_a_good_body_has_no_errors() -> None:
    assert validate_body(ORDER, GOOD) == []


def test_missing_required_fields_point_at_the_missing_fields() -> None:
    body = with_changes()
    del body["items"]
    body["customer"] = {"site": "https://example.com"}
    assert sorted(places(body)) == [
        ("required", "/customer/email"),
        ("required", "/customer/name"),
        ("required", "/items"),
    ]


def test_nested_array_item_errors_point_into_the_item() -> None:
    body = with_changes(items=[{"sku": "SKU-000001", "quantity": 2}, {"sku": "SKU-000002", "quantity": 1000}])
    assert places(body) == [("maximum", "/items/1/quantity")]
    body = with_changes(items=[{"sku": "SKU-1", "quantity": 2}])
    assert places(body) == [("pattern", "/items/0/sku")]
    body = with_changes(items=[{"sku": "SKU-000001"}])
    assert places(body) == [("required", "/items/0/quantity")]


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("email", "li.na@", "li.na@example.com"),
        ("email", "li.na.example.com", "li.na+shop@mail.example.cn"),
        ("email", "li@localhost", "li@example.org"),
        ("site", "not a uri", "https://www.example.com/path?q=1"),
        ("site", "example.com/path", "http://ex.io/"),
    ],
)
def test_customer_formats_are_really_checked(field: str, bad: str, good: str) -> None:
    customer = dict(GOOD["customer"])
    customer[field] = bad
    assert places(with_changes(customer=customer)) == [("format", f"/customer/{field}")]
    customer[field] = good
    assert places(with_changes(customer=customer)) == []


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("placed_at", "2024-05-01 10:30:00", "2024-05-01T10:30:00+08:00"),
        ("placed_at", "2024-13-01T10:30:00Z", "2024-12-31T23:59:59Z"),
        ("ship_on", "2024-02-30", "2024-02-29"),
        ("ship_on", "2024/05/03", "2024-05-03"),
        ("request_id", "not-a-uuid", "6f1c2b7e-8d7a-4c1e-9a3b-5e2d1f0c4b8a"),
        ("request_id", "6f1c2b7e8d7a4c1e9a3b5e2d1f0c4b8a", "6F1C2B7E-8D7A-4C1E-9A3B-5E2D1F0C4B8A"),
    ],
)
def test_date_time_and_uuid_formats_are_really_checked(field: str, bad: str, good: str) -> None:
    assert places(with_changes(**{field: bad})) == [("format", f"/{field}")]
    assert places(with_changes(**{field: good})) == []


def test_additional_properties_point_at_the_object() -> None:
    assert places(with_changes(coupon="X")) == [("additionalProperties", "")]


def test_a_nullable_field_names_the_rule_its_value_breaks_not_any_of() -> None:
    schema = {"type": "object", "$defs": {"Window": {"type": "object", "properties": {"slots": {"maximum": 9}}}},
              "properties": {"note": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]},
                             "window": {"anyOf": [{"$ref": "#/$defs/Window"}, {"type": "null"}]},
                             "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}
    found = [(item["keyword"], item["pointer"]) for item in validate_body(schema, {"note": "long", "window": {
        "slots": 10}, "either": []})]
    assert found == [("anyOf", "/either"), ("maxLength", "/note"), ("maximum", "/window/slots")]
    assert validate_body(schema, {"note": None, "window": None}) == []


def test_an_unusable_schema_raises_a_clear_error() -> None:
    with pytest.raises(InvalidSchemaError, match="not valid JSON Schema"):
        validate_body({"type": "object", "properties": {"a": {"type": "no-such-type"}}}, {})


def row(name: str, kind: RowKind, keyword: str | None, pointer: str, body: dict[str, Any]) -> DataRow:
    return DataRow(
        name=name,
        kind=kind,
        keyword=keyword,
        pointer=pointer,
        description="",
        expected_status=201 if kind != "invalid" else 422,
        body=body,
        source="offline",
    )


def test_rows_are_matched_against_their_intent() -> None:
    missing_name = with_changes(customer={"email": "li@example.com"})
    rows = [
        row("ok", "valid", None, "", GOOD),
        row("valid_but_broken", "valid", None, "", with_changes(ship_on="tomorrow")),
        row("name_required_invalid", "invalid", "required", "/customer/name", missing_name),
        row("name_wrong_pointer", "invalid", "required", "/customer", missing_name),
        row("quantity_maximum_invalid", "invalid", "maximum", "/items/0/quantity", GOOD),
        row("two_errors", "invalid", "format", "/ship_on", with_changes(ship_on="x", placed_at="y")),
        row("no_keyword", "invalid", None, "/ship_on", with_changes(ship_on="x")),
    ]
    result = validate_rows(ORDER, rows)
    by_name = {item["name"]: item for item in result["rows"]}
    assert [item["name"] for item in result["rows"]] == [item["name"] for item in rows]
    assert not result["all_match"]
    assert result["mismatched"] == [
        "valid_but_broken",
        "name_wrong_pointer",
        "quantity_maximum_invalid",
        "two_errors",
        "no_keyword",
    ]
    assert by_name["ok"] == {"name": "ok", "valid": True, "errors": [], "matches_intent": True, "problem": None}
    assert by_name["name_required_invalid"]["matches_intent"] and not by_name["name_required_invalid"]["valid"]
    assert "format at /ship_on" in (by_name["valid_but_broken"]["problem"] or "")
    assert "is valid" in (by_name["quantity_maximum_invalid"]["problem"] or "")
    assert "format at /placed_at" in (by_name["two_errors"]["problem"] or "")


def test_problems_list_the_reason_then_each_error() -> None:
    rows = [
        row("ok", "valid", None, "", GOOD),
        row("bad", "boundary", "maximum", "/items/0/quantity", with_changes(ship_on="x")),
    ]
    problems = problems_of(validate_rows(ORDER, rows))
    assert list(problems) == ["bad"]
    assert problems["bad"][0].startswith("The row should be accepted")
    assert problems["bad"][1].startswith("format at /ship_on:")


def test_all_match_when_every_row_hits_its_intent() -> None:
    result = validate_rows(ORDER, [row("ok", "valid", None, "", GOOD)])
    assert result["all_match"] and result["mismatched"] == [] and problems_of(result) == {}
