"""The review grid's model: schema-typed columns, flat records, and edits patched into each row's body."""

from __future__ import annotations

import copy

from dashboard import review_grid
from tests.support.demo import demo_scene

ORDER = demo_scene("SC002")["request_schema"]
VALID = {
    "customer_id": 7, "currency": "CNY",
    "items": [{"sku": "SKU-100001", "quantity": 1, "unit_price": 9.9}],
    "shipping_address": {"recipient": "张三", "phone": "13800000000", "province": "广东", "city": "深圳",
                         "street": "科技园路 1 号"},
}
ROWS = [
    {"name": "valid", "kind": "valid", "keyword": None, "pointer": "", "description": "", "expected_status": 201,
     "body": VALID, "checks": []},
    {"name": "currency_enum_invalid", "kind": "invalid", "keyword": "enum", "pointer": "/currency",
     "description": "", "expected_status": 400, "body": {**VALID, "currency": "JPY"}, "checks": []},
    {"name": "address_missing", "kind": "invalid", "keyword": "required", "pointer": "/shipping_address",
     "description": "", "expected_status": 400, "body": {k: v for k, v in VALID.items() if k != "shipping_address"},
     "checks": []},
    {"name": "customer_type_invalid", "kind": "invalid", "keyword": "type", "pointer": "/customer_id",
     "description": "", "expected_status": 400, "body": {**VALID, "customer_id": "seven", "extra": True},
     "checks": []},
]


def _columns() -> dict[str, review_grid.FieldColumn]:
    return {c.key: c for c in review_grid.columns_for(ORDER, ROWS)}


def test_columns_follow_the_schema_and_what_rows_hold() -> None:
    columns = _columns()
    assert columns["currency"].kind == "enum" and columns["currency"].options == ("CNY", "USD", "EUR", "JPY")
    assert columns["shipping_address.city"].kind == "text" and columns["shipping_address.city"].required
    assert columns["items"].kind == "json" and columns["items"].read_only  # an array of objects
    assert columns["customer_id"].kind == "json"  # one row holds a string: a number cell could not show it
    assert columns["extra"].kind == "bool"  # not in the schema: judged by its values
    assert "客户ID" in columns["customer_id"].help and "1 ≤ x" in columns["customer_id"].help
    assert "empty cell = field absent" in columns["remark"].help


def test_records_are_flat_with_empty_cells_for_absent_fields() -> None:
    records = review_grid.to_records(ROWS, list(_columns().values()))
    assert records[0]["shipping_address.city"] == "深圳" and records[0]["customer_id"] == "7"
    assert records[2]["shipping_address.city"] is None and records[3]["customer_id"] == '"seven"'
    assert records[1]["_kind"] == "invalid" and records[1]["_keyword"] == "enum"


def test_edits_patch_only_the_edited_fields() -> None:
    rows = copy.deepcopy(ROWS)
    applied = review_grid.apply_edits(rows, list(_columns().values()), {
        0: {"shipping_address.city": "广州", "customer_id": "8", "remark": "加急"},
        2: {"shipping_address.city": "上海"},  # creates the missing object
        3: {"customer_id": "seven again", "_expected_status": 422.0},
        1: {"currency": None},  # an empty cell removes the field
    })
    body = applied.rows[0]["body"]
    assert body["shipping_address"]["city"] == "广州" and body["customer_id"] == 8 and body["remark"] == "加急"
    assert body["items"] == VALID["items"] and list(body)[:2] == ["customer_id", "currency"]
    assert applied.rows[2]["body"]["shipping_address"] == {"city": "上海"}
    assert applied.rows[3]["body"]["customer_id"] == "seven again" and applied.rows[3]["expected_status"] == 422
    assert "currency" not in applied.rows[1]["body"]
    assert applied.edited == {"valid", "currency_enum_invalid", "address_missing", "customer_type_invalid"}
    assert rows == ROWS  # the inputs are untouched


def test_bad_cells_are_reported_beside_their_row() -> None:
    applied = review_grid.apply_edits(ROWS, list(_columns().values()), {
        0: {"_expected_status": 999}, 1: {"_kind": "weird"}, 2: {"_name": " "}})
    assert "HTTP status code" in applied.errors["valid"][0]
    assert "kind must be one of" in applied.errors["currency_enum_invalid"][0]
    assert "needs a name" in applied.errors["address_missing"][0]
    assert review_grid.check_text(None, applied.errors["valid"]).startswith("✗ ")


def test_check_text_says_whether_a_row_does_what_it_intends() -> None:
    ok = {"name": "a", "valid": True, "errors": [], "matches_intent": True, "problem": None}
    rejected = {"name": "b", "valid": False, "matches_intent": True, "problem": None,
                "errors": [{"keyword": "enum", "pointer": "/currency", "message": "x"}]}
    wrong = {"name": "c", "valid": True, "errors": [], "matches_intent": False,
             "problem": "The row should break enum at /currency but its body is valid."}
    assert review_grid.check_text(ok) == "✓ valid"
    assert review_grid.check_text(rejected) == "✓ rejected: enum at /currency"
    assert review_grid.check_text(wrong) == "✗ The row should break enum at /currency but its body is valid."


def test_row_objects_carry_what_the_service_takes_back() -> None:
    objects = review_grid.row_objects(ROWS)
    assert set(objects[0]) == {"name", "kind", "keyword", "pointer", "description", "expected_status", "body"}
