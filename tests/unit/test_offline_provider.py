"""The offline provider: rows that hit exactly their labelled constraint, coverage, determinism, feedback, repair."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from core.generation.offline.provider import MAX_ROWS, OfflineProvider
from core.records import DataRow, SceneInput, TestCaseInput
from core.schema.responses import error_status, success_status
from core.schema.validation import problems_of, validate_rows
from tests.support.demo import case_input, case_titled, demo_scene, demo_scenes, demo_test_cases, first_case_of

LIMITS = {
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
}
PLAIN = {"const", "enum", "pattern", "multipleOf"} | LIMITS
FORMATS = {"email", "date", "date-time", "uuid", "uri"}
SCENE_IDS = [scene["scene_id"] for scene in demo_scenes()]


def synthetic_scene(schema: dict[str, Any], responses: dict[str, Any] | None = None) -> SceneInput:
    return SceneInput(
        scene_id="SYN",
        name="synthetic",
        method="POST",
        path="/things",
        request_schema=schema,
        responses=responses or {"201": {"description": "ok"}, "422": {"description": "bad"}},
    )


PLAIN_CASE = TestCaseInput(
    id=0, title="Create a thing", module="", preconditions="", steps="1. Send it", expected_result="201"
)


def rows_for(case: TestCaseInput, scene: SceneInput, feedback: list[str] | None = None) -> list[DataRow]:
    provider = OfflineProvider()
    plan = provider.plan_rows(case, scene, provider.analyse(case, scene), feedback or [])
    return provider.generate_bodies(case, scene, plan, feedback or [])


def raw_errors(schema: dict[str, Any], body: Any) -> list[tuple[str, str]]:
    """(keyword, pointer) of each jsonschema error; required errors point at the missing field."""
    found = []
    for error in Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(body):
        pointer = "".join(f"/{part}" for part in error.absolute_path)
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in error.instance]
            found += [("required", f"{pointer}/{name}") for name in missing]
        else:
            found.append((str(error.validator), pointer))
    return found


def assert_rows_hit_their_labels(schema: dict[str, Any], rows: list[DataRow]) -> None:
    for row in rows:
        errors = raw_errors(schema, row["body"])
        if row["kind"] == "invalid":
            assert errors, f"{row['name']} is valid"
            assert set(errors) == {(row["keyword"], row["pointer"])}, f"{row['name']}: {errors}"
        else:
            assert errors == [], f"{row['name']}: {errors}"


def constraints(node: dict[str, Any], root: bool = True) -> set[str]:
    """Keywords of every node (formats as "format:<name>"), walked independently of the provider."""
    found = {key for key in PLAIN if key in node}
    if not root and "type" in node:
        found.add("type")
    if node.get("required"):
        found.add("required")
    if node.get("additionalProperties") is False:
        found.add("additionalProperties")
    if node.get("uniqueItems") is True:
        found.add("uniqueItems")
    if node.get("format") in FORMATS:
        found.add(f"format:{node['format']}")
    for sub in node.get("properties", {}).values():
        found |= constraints(sub, False)
    if isinstance(node.get("items"), dict):
        found |= constraints(node["items"], False)
    return found


def node_at(schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    node = schema
    for part in pointer.strip("/").split("/") if pointer else []:
        node = node["items"] if part.isdigit() and "items" in node else node["properties"][part]
    return node


def targeted(schema: dict[str, Any], rows: list[DataRow], kind: str) -> set[str]:
    found = set()
    for row in rows:
        if row["kind"] == kind and row["keyword"]:
            keyword = row["keyword"]
            found.add(f"format:{node_at(schema, row['pointer'])['format']}" if keyword == "format" else keyword)
    return found


@pytest.mark.parametrize("scene_id", SCENE_IDS)
def test_demo_rows_validate_exactly_as_labelled(scene_id: str) -> None:
    scene = demo_scene(scene_id)
    rows = rows_for(first_case_of(scene_id), scene)
    assert rows[0]["name"] == "baseline_valid" and rows[0]["kind"] == "valid" and rows[0]["keyword"] is None
    assert_rows_hit_their_labels(scene["request_schema"], rows)
    assert validate_rows(scene["request_schema"], rows)["all_match"]


@pytest.mark.parametrize("case_index", range(len(demo_test_cases())))
def test_every_demo_case_gets_rows_that_hit_their_labels(case_index: int) -> None:
    scene = demo_scene(demo_test_cases()[case_index]["scene_id"])
    rows = rows_for(case_input(case_index), scene)
    assert_rows_hit_their_labels(scene["request_schema"], rows)
    assert len(rows) <= MAX_ROWS


@pytest.mark.parametrize("scene_id", SCENE_IDS)
def test_every_demo_constraint_is_targeted(scene_id: str) -> None:
    scene = demo_scene(scene_id)
    schema = scene["request_schema"]
    rows = rows_for(first_case_of(scene_id), scene)
    expected = constraints(schema)
    assert expected <= targeted(schema, rows, "invalid")
    assert expected & LIMITS <= targeted(schema, rows, "boundary")


@pytest.mark.parametrize("scene_id", SCENE_IDS)
def test_row_names_are_unique_snake_case(scene_id: str) -> None:
    rows = rows_for(first_case_of(scene_id), demo_scene(scene_id))
    names = [row["name"] for row in rows]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*", name) for name in names), names
    assert all(row["source"] == "offline" and row["description"].endswith(".") for row in rows)


@pytest.mark.parametrize("scene_id", SCENE_IDS)
def test_outputs_are_deterministic(scene_id: str) -> None:
    case, scene = first_case_of(scene_id), demo_scene(scene_id)
    first, second = OfflineProvider(), OfflineProvider()
    assert first.analyse(case, scene) == second.analyse(case, scene)
    rows = rows_for(case, scene, ["More boundary values please"])
    assert rows == rows_for(case, scene, ["More boundary values please"])
    assert first.generate_assertions(case, scene, rows) == second.generate_assertions(case, scene, rows)


@pytest.mark.parametrize("scene_id", SCENE_IDS)
def test_feedback_changes_the_bodies_and_they_stay_right(scene_id: str) -> None:
    case, scene = first_case_of(scene_id), demo_scene(scene_id)
    provider = OfflineProvider()
    plan = provider.plan_rows(case, scene, provider.analyse(case, scene), [])
    rounds = [[], ["Use other values"], ["Use other values", "Still too similar, change the email"]]
    bodies = [[row["body"] for row in provider.generate_bodies(case, scene, plan, feedback)] for feedback in rounds]
    assert bodies[0] != bodies[1] and bodies[1] != bodies[2]
    assert bodies[0][0] != bodies[1][0] and bodies[1][0] != bodies[2][0]
    assert_rows_hit_their_labels(scene["request_schema"], provider.generate_bodies(case, scene, plan, rounds[2]))


def test_feedback_naming_a_field_brings_its_rows_in() -> None:
    case, scene = first_case_of("SC002"), demo_scene("SC002")
    before = {row["name"] for row in rows_for(case, scene)}
    after = rows_for(case, scene, ["Please also cover the coupon_code pattern and the remark length"])
    names = [row["name"] for row in after]
    assert "coupon_code_pattern_invalid" not in before
    assert {"coupon_code_pattern_invalid", "remark_maxLength_invalid", "remark_maxLength_boundary"} <= set(names)
    assert names.index("coupon_code_pattern_invalid") < names.index("customer_id_type_invalid")


@pytest.mark.parametrize("scene_id", SCENE_IDS)
def test_expected_statuses_follow_the_documented_responses(scene_id: str) -> None:
    scene = demo_scene(scene_id)
    codes = sorted(int(code) for code in scene["responses"])
    success = min(code for code in codes if 200 <= code < 300)
    error = 422 if 422 in codes else 400 if 400 in codes else min(code for code in codes if 400 <= code < 500)
    for row in rows_for(first_case_of(scene_id), scene):
        assert row["expected_status"] == (error if row["kind"] == "invalid" else success), row["name"]


@pytest.mark.parametrize(
    ("codes", "success", "error"),
    [
        (["201", "400", "422"], 201, 422),
        (["200", "400", "429"], 200, 400),
        (["204", "202", "409", "404"], 202, 404),
        (["default"], 200, 400),
        ([], 200, 400),
    ],
)
def test_status_rules(codes: list[str], success: int, error: int) -> None:
    responses = {code: {"description": code} for code in codes}
    assert (success_status(responses), error_status(responses)) == (success, error)


def test_repair_fixes_deliberately_broken_rows() -> None:
    case, scene = first_case_of("SC002"), demo_scene("SC002")
    rows = rows_for(case, scene)
    broken = copy.deepcopy(rows)
    by_name = {row["name"]: row for row in broken}
    by_name["items_quantity_maximum_invalid"]["body"] = copy.deepcopy(rows[0]["body"])
    by_name["items_maxItems_boundary"]["body"]["items"] *= 30
    by_name["currency_enum_invalid"]["body"]["customer_id"] = 0
    result = validate_rows(scene["request_schema"], broken)
    broken_names = {"items_quantity_maximum_invalid", "items_maxItems_boundary", "currency_enum_invalid"}
    assert set(result["mismatched"]) == broken_names
    repaired = OfflineProvider().repair_rows(scene, broken, problems_of(result))
    assert validate_rows(scene["request_schema"], repaired)["all_match"]
    assert_rows_hit_their_labels(scene["request_schema"], repaired)
    assert [row["name"] for row in repaired] == [row["name"] for row in broken]
    untouched = [row for row in repaired if row["name"] not in result["mismatched"]]
    assert untouched == [row for row in broken if row["name"] not in result["mismatched"]]


def test_repair_marks_model_rows_as_offline_fallback() -> None:
    case, scene = first_case_of("SC004"), demo_scene("SC004")
    rows = rows_for(case, scene)
    model_row = rows[1].copy()
    model_row["source"] = "model"
    model_row["body"] = {}
    repaired = OfflineProvider().repair_rows(scene, [model_row], {model_row["name"]: ["wrong"]})
    assert repaired[0]["source"] == "offline-fallback"
    assert_rows_hit_their_labels(scene["request_schema"], repaired)


def test_analysis_names_the_fields_the_case_mentions() -> None:
    provider = OfflineProvider()
    phone_case = case_titled("手机号格式")
    analysis = provider.analyse(phone_case, demo_scene("SC001"))
    assert analysis["fields"] == ["/phone"]
    assert analysis["expected_outcome"] == phone_case["expected_result"]
    assert analysis["intent"].startswith("用户注册-手机号格式校验")
    address_case = case_titled("shipping address")
    fields = provider.analyse(address_case, demo_scene("SC002"))["fields"]
    assert {"/shipping_address", "/shipping_address/recipient", "/shipping_address/city"} <= set(fields)


def test_analysis_falls_back_to_required_leaf_fields() -> None:
    fields = OfflineProvider().analyse(PLAIN_CASE, demo_scene("SC002"))["fields"]
    assert fields == [
        "/customer_id",
        "/currency",
        "/items/0/sku",
        "/items/0/quantity",
        "/items/0/unit_price",
        "/shipping_address/recipient",
        "/shipping_address/phone",
        "/shipping_address/province",
        "/shipping_address/city",
        "/shipping_address/street",
    ]


def checks_of(case: TestCaseInput, scene: SceneInput) -> dict[str, list[dict[str, Any]]]:
    rows = rows_for(case, scene)
    assertions = OfflineProvider().generate_assertions(case, scene, rows)
    assert [item["name"] for item in assertions] == [row["name"] for row in rows]
    for item, row in zip(assertions, rows, strict=True):
        assert item["expected_status"] == row["expected_status"]
        assert item["checks"][0] == {"kind": "status", "path": None, "expected": row["expected_status"]}
    return {item["name"]: [dict(check) for check in item["checks"][1:]] for item in assertions}


def test_assertions_follow_the_success_text() -> None:
    case, scene = first_case_of("SC001"), demo_scene("SC001")
    rows = {row["name"]: row for row in rows_for(case, scene)}
    checks = checks_of(case, scene)
    baseline = checks["baseline_valid"]
    assert {"kind": "json_path_exists", "path": "id", "expected": None} in baseline
    username = rows["baseline_valid"]["body"]["username"]
    assert {"kind": "json_path_equals", "path": "username", "expected": username} in baseline
    assert checks["username_maxLength_invalid"] == [
        {"kind": "json_path_exists", "path": name, "expected": None} for name in ("code", "message", "errors")
    ]


def test_quoted_error_messages_only_go_to_matching_invalid_rows() -> None:
    case = case_titled("手机号格式")
    checks = checks_of(case, demo_scene("SC001"))
    message = {"kind": "body_contains", "path": None, "expected": "手机号格式不正确"}
    assert message in checks["phone_pattern_invalid"]
    assert message not in checks["phone_required_invalid"]
    assert all(message not in found for name, found in checks.items() if name != "phone_pattern_invalid")
    assert not any(check["kind"] == "body_contains" for check in checks["baseline_valid"])


def test_without_documented_schemas_only_safe_checks_remain() -> None:
    scene = synthetic_scene(
        {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 5}}},
        {"201": {"description": "created"}, "400": {"description": "bad"}},
    )
    case = TestCaseInput(
        id=1, title="Create", module="", preconditions="", steps="1. Post", expected_result="Returns 201 and the id."
    )
    checks = checks_of(case, scene)
    assert checks["baseline_valid"] == [{"kind": "json_path_exists", "path": "id", "expected": None}]
    assert checks["name_maxLength_invalid"] == []


def obj(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties, **extra}


def number(**limits: Any) -> dict[str, Any]:
    return {"type": "number", **limits}


SYNTHETIC = {
    "exclusive_minimum": (
        obj({"price": number(exclusiveMinimum=0, multipleOf=0.01)}),
        {"exclusiveMinimum", "multipleOf"},
    ),
    "exclusive_maximum": (obj({"ratio": number(exclusiveMaximum=1, minimum=0)}), {"exclusiveMaximum", "minimum"}),
    "multiple_of_float": (
        obj({"amount": number(minimum=0.05, maximum=99999.99, multipleOf=0.05)}),
        {"multipleOf", "minimum", "maximum"},
    ),
    "multiple_of_integer": (
        obj({"size": {"type": "integer", "minimum": 5, "maximum": 95, "multipleOf": 5}}),
        {"multipleOf", "minimum", "maximum"},
    ),
    "const": (obj({"version": {"type": "string", "const": "v2"}, "flag": {"const": 3}}), {"const"}),
    "enum": (
        obj(
            {
                "level": {"type": "integer", "enum": [1, 2, 3]},
                "mode": {"type": ["string", "integer"], "enum": ["a", 2]},
            }
        ),
        {"enum"},
    ),
    "array_limits": (
        obj(
            {
                "tags": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 8},
                    "minItems": 2,
                    "maxItems": 4,
                    "uniqueItems": True,
                }
            }
        ),
        {"minItems", "maxItems", "uniqueItems", "maxLength"},
    ),
    "no_extra_properties": (obj({"a": {"type": "string"}}, additionalProperties=False), {"additionalProperties"}),
    "nested_arrays_of_objects": (
        obj(
            {
                "groups": {
                    "type": "array",
                    "minItems": 1,
                    "items": obj(
                        {
                            "members": {
                                "type": "array",
                                "maxItems": 3,
                                "items": obj({"age": {"type": "integer", "minimum": 0}}, additionalProperties=False),
                            }
                        }
                    ),
                }
            }
        ),
        {"minItems", "maxItems", "minimum", "additionalProperties", "required"},
    ),
    "pattern_and_lengths": (
        obj({"code": {"type": "string", "pattern": "^[A-Z][A-Z0-9]*$", "minLength": 4, "maxLength": 10}}),
        {"pattern", "minLength", "maxLength"},
    ),
    "formats": (
        obj({name.replace("-", "_"): {"type": "string", "format": name} for name in sorted(FORMATS)}),
        {"format"},
    ),
}


IMPOSSIBLE = {"const": {"type"}, "enum": {"type"}}
"""Keywords no row can break alone: a value of another type also breaks the const or the enum."""


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_keywords_are_each_targeted_and_hit(name: str) -> None:
    schema, keywords = SYNTHETIC[name]
    rows = rows_for(PLAIN_CASE, synthetic_scene(schema))
    assert_rows_hit_their_labels(schema, rows)
    impossible = IMPOSSIBLE.get(name, set())
    assert constraints(schema) - impossible <= targeted(schema, rows, "invalid")
    assert not impossible & targeted(schema, rows, "invalid")
    assert keywords & LIMITS <= targeted(schema, rows, "boundary")
    assert keywords <= {row["keyword"] for row in rows}


def test_nested_array_rows_point_into_the_first_item() -> None:
    schema = SYNTHETIC["nested_arrays_of_objects"][0]
    pointers = {row["name"]: row["pointer"] for row in rows_for(PLAIN_CASE, synthetic_scene(schema))}
    assert pointers["groups_members_age_minimum_invalid"] == "/groups/0/members/0/age"
    assert pointers["groups_members_age_required_invalid"] == "/groups/0/members/0/age"
    assert pointers["groups_members_item_additionalProperties_invalid"] == "/groups/0/members/0"


def test_limit_values_sit_exactly_on_the_limits() -> None:
    schema = obj(
        {
            "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000, "multipleOf": 0.01},
            "name": {"type": "string", "minLength": 2, "maxLength": 12},
            "items": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3},
        }
    )
    rows = {row["name"]: row["body"] for row in rows_for(PLAIN_CASE, synthetic_scene(schema))}
    assert rows["price_exclusiveMinimum_boundary"]["price"] == 0.01
    assert rows["price_exclusiveMinimum_invalid"]["price"] == 0
    assert rows["price_maximum_boundary"]["price"] == 100000
    assert rows["price_maximum_invalid"]["price"] == 100000.01
    assert len(rows["name_minLength_boundary"]["name"]) == 2 and len(rows["name_minLength_invalid"]["name"]) == 1
    assert len(rows["name_maxLength_boundary"]["name"]) == 12 and len(rows["name_maxLength_invalid"]["name"]) == 13
    assert len(rows["items_minItems_boundary"]["items"]) == 1 and rows["items_minItems_invalid"]["items"] == []
    assert len(rows["items_maxItems_boundary"]["items"]) == 3 and len(rows["items_maxItems_invalid"]["items"]) == 4


def test_multiple_of_hundredths_values_pass_jsonschema() -> None:
    schema = obj({"price": {"type": "number", "minimum": 0, "maximum": 1000, "multipleOf": 0.01}})
    for index in range(30):
        scene = synthetic_scene(schema)
        scene["scene_id"] = f"SYN{index}"
        body = rows_for(PLAIN_CASE, scene)[0]["body"]
        assert raw_errors(schema, body) == [], body


def test_length_rows_a_fixed_length_pattern_cannot_allow_are_skipped() -> None:
    schema = obj({"code": {"type": "string", "pattern": "^[0-9]{6}$", "minLength": 6, "maxLength": 6}})
    rows = rows_for(PLAIN_CASE, synthetic_scene(schema))
    names = {row["name"] for row in rows}
    assert {"code_minLength_boundary", "code_maxLength_boundary", "code_pattern_invalid"} <= names
    assert not {"code_minLength_invalid", "code_maxLength_invalid"} & names
    assert_rows_hit_their_labels(schema, rows)


def test_big_schemas_are_capped_but_keep_every_keyword() -> None:
    fields = {f"field_{index:02d}": {"type": "string", "minLength": 1, "maxLength": 30} for index in range(30)}
    fields["count"] = {"type": "integer", "minimum": 1, "maximum": 9, "multipleOf": 2}
    fields["when"] = {"type": "string", "format": "date"}
    schema = obj(fields, additionalProperties=False)
    rows = rows_for(PLAIN_CASE, synthetic_scene(schema))
    assert len(rows) == MAX_ROWS
    assert constraints(schema) <= targeted(schema, rows, "invalid")
    assert constraints(schema) & LIMITS <= targeted(schema, rows, "boundary")
    assert_rows_hit_their_labels(schema, rows)


def test_local_refs_are_followed() -> None:
    schema = {
        "type": "object",
        "required": ["home"],
        "properties": {"home": {"$ref": "#/$defs/address"}},
        "$defs": {"address": obj({"zip": {"type": "string", "pattern": "^[0-9]{6}$"}})},
    }
    rows = rows_for(PLAIN_CASE, synthetic_scene(schema))
    assert "home_zip_pattern_invalid" in {row["name"] for row in rows}
    assert_rows_hit_their_labels(schema, rows)


def test_error_messages_go_to_the_rows_of_the_field_and_rule_they_name() -> None:
    case = case_titled("商品数量")
    checks = checks_of(case, demo_scene("SC002"))
    message = {"kind": "body_contains", "path": None, "expected": "数量超出范围"}
    with_message = {name for name, found in checks.items() if message in found}
    assert with_message == {"items_quantity_minimum_invalid", "items_quantity_maximum_invalid"}
    assert {"kind": "json_path_exists", "path": "order_id", "expected": None} in checks["baseline_valid"]


def test_plans_that_miss_the_schema_get_the_baseline_body_and_stay_unrepaired() -> None:
    case, scene = first_case_of("SC004"), demo_scene("SC004")
    provider = OfflineProvider()
    plan = provider.plan_rows(case, scene, provider.analyse(case, scene), [])
    invalid = next(item for item in plan if item["kind"] == "invalid")
    stray = {**invalid, "name": "nickname_minLength_invalid", "keyword": "minLength", "pointer": "/nickname"}
    rows = provider.generate_bodies(case, scene, [plan[0], stray], [])  # type: ignore[list-item]
    assert rows[1]["body"] == rows[0]["body"]
    result = validate_rows(scene["request_schema"], rows)
    assert result["mismatched"] == ["nickname_minLength_invalid"]
    assert provider.repair_rows(scene, rows, problems_of(result)) == rows


def nullable(node: dict[str, Any]) -> dict[str, Any]:
    """A pydantic optional field: ``anyOf [node, {"type": "null"}]``."""
    return {"anyOf": [node, {"type": "null"}]}


def test_the_constraints_of_nullable_fields_and_their_fields_are_targeted() -> None:
    schema = {**obj({
        "title": {"type": "string"},
        "note": nullable({"type": "string", "maxLength": 20}),
        "state": nullable({"type": "string", "enum": ["queued", "running", "failed"]}),
        "window": nullable(obj({"slots": {"type": "integer", "minimum": 1, "maximum": 9}})),
    }), "required": ["title"]}
    rows = {row["name"]: row for row in rows_for(PLAIN_CASE, synthetic_scene(schema))}
    for name, row in rows.items():  # jsonschema itself names only "anyOf" for a nullable field: refused or not
        assert bool(raw_errors(schema, row["body"])) == (row["kind"] == "invalid"), name
    assert validate_rows(schema, list(rows.values()))["all_match"], "each breaks just the rule it names"
    assert len(rows["note_maxLength_boundary"]["body"]["note"]) == 20
    assert len(rows["note_maxLength_invalid"]["body"]["note"]) == 21
    assert rows["window_slots_maximum_invalid"]["body"]["window"]["slots"] == 10
    assert rows["window_slots_required_invalid"]["body"]["window"] == {}
    states = {row["body"]["state"] for row in rows.values() if row["kind"] == "valid" and row["pointer"] == "/state"}
    assert {"queued", "running", "failed"} <= states | {rows["baseline_valid"]["body"]["state"]}
    assert None in states, "the null branch is sent once too"
