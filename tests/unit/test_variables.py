"""Run-time variables, unique values and positive coverage: what makes an approved case pass on every run."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.generation.offline.provider import OfflineProvider
from core.records import SceneInput, TestCaseInput
from core.schema import uniqueness, variables
from core.schema.validation import validate_body, validate_rows
from core.schema.values import sample
from tests.support.demo import demo_scene, first_case_of

CASE = TestCaseInput(id=1, title="Create", module="", preconditions="", steps="1. Send", expected_result="201")


def scene_of(schema: dict[str, Any]) -> SceneInput:
    return SceneInput(scene_id="S", name="Create", method="POST", path="/things", request_schema=schema,
                      responses={"201": {"description": "created"}, "422": {"description": "invalid"}})


def rows_of(schema: dict[str, Any]) -> list[Any]:
    provider, scene = OfflineProvider(), scene_of(schema)
    plan = provider.plan_rows(CASE, scene, provider.analyse(CASE, scene), [])
    return uniqueness.vary(schema, provider.generate_bodies(CASE, scene, plan, []))


def test_builtins_resolve_afresh_with_a_fixed_length_and_names_from_the_run() -> None:
    template = {"name": "bob_{{$randomInt}}", "ids": ["{{ $uuid }}"], "run": "{{run_id}}", "at": "{{$timestamp}}",
                "n": 3}
    first = variables.resolve(template, {"run_id": "run-1"}, random.Random(1))
    second = variables.resolve(template, {"run_id": "run-2"}, random.Random(2))
    assert first["name"] != second["name"] and len(first["name"]) == len(second["name"]) == len("bob_") + 6
    assert first["ids"][0] != second["ids"][0] and len(first["ids"][0]) == 36
    assert first["run"] == "run-1" and first["n"] == 3 and first["at"].isdigit() and len(first["at"]) == 10
    assert variables.example(template) == variables.example(template), "the example is the same every time"
    instants = [variables.resolve("{{$isoTimestamp}}", {}) for _ in range(3)]
    assert [datetime.fromisoformat(value).tzinfo for value in instants] == [UTC] * 3
    assert sorted(set(instants)) == instants and {len(value) for value in instants} == {24}, \
        "later on every call, even within one millisecond"
    assert variables.example("{{$isoTimestamp}}") == variables.EXAMPLE_VARIABLES["$isoTimestamp"]
    with pytest.raises(variables.UnknownVariable):
        variables.resolve({"x": "{{tenant}}"}, {})
    assert variables.example({"x": "{{tenant}}"}) == {"x": "{{tenant}}"}, "shown as written, not invented"


def test_a_captured_number_stays_a_number_where_it_is_the_whole_value() -> None:
    template = {"project_id": "{{project_id}}", "label": "p-{{project_id}}", "name": "{{name}}"}
    sent = variables.resolve(template, {"project_id": 7, "name": "seven"})
    assert sent == {"project_id": 7, "label": "p-7", "name": "seven"}
    assert variables.resolve("{{$randomInt}}", {}).isdigit(), "a built-in is text, as every run sends it"
    steps = [{"captures": {"project_id": ["id"]}, "examples": {"project_id": 3}}, {"captures": {"x": ["id"]}}]
    assert variables.example(template, variables.setup_examples(steps))["project_id"] == 3


def test_unique_looking_strings_get_a_variable_that_keeps_every_row_meaning_what_it_means() -> None:
    scene = demo_scene("SC001")
    provider = OfflineProvider()
    plan = provider.plan_rows(first_case_of("SC001"), scene, provider.analyse(first_case_of("SC001"), scene), [])
    rows = uniqueness.vary(scene["request_schema"],
                           provider.generate_bodies(first_case_of("SC001"), scene, plan, []))
    assert validate_rows(scene["request_schema"], rows)["all_match"]
    baseline = rows[0]["body"]
    assert variables.has_template(baseline["username"]) and variables.has_template(baseline["email"])
    assert baseline["invite_code"] == "{{$uuid}}"
    assert not variables.has_template(baseline["password"]), "a password is not kept unique"
    by_name = {row["name"]: row for row in rows}
    longest = by_name["username_maxLength_boundary"]["body"]["username"]
    assert variables.has_template(longest) and len(variables.example(longest)) == 16, "the boundary keeps its length"
    broken = by_name["username_pattern_invalid"]["body"]["username"]
    assert not variables.has_template(broken), "the value an invalid row breaks the schema with stays as it is"
    runs = {variables.resolve(baseline, {})["username"] for _ in range(20)}
    assert len(runs) > 15, "each run sends another username"


def test_date_times_become_the_moment_of_the_run_nullable_ones_too() -> None:
    instant = {"type": "string", "format": "date-time"}
    schema = {"type": "object", "properties": {
        "logical_date": {"anyOf": [instant, {"type": "null"}]}, "start": instant, "end": instant,
        "day": {"type": "string", "format": "date"}, "fixed": {**instant, "enum": ["2024-01-01T00:00:00Z"]}}}
    body = {"logical_date": "2021-03-05T03:40:01Z", "start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z",
            "day": "2024-01-01", "fixed": "2024-01-01T00:00:00Z"}
    [valid, broken] = uniqueness.vary(schema, [
        {"name": "v", "kind": "valid", "keyword": None, "pointer": "", "body": body},
        {"name": "i", "kind": "invalid", "keyword": "format", "pointer": "/start", "body": {**body, "start": "nope"}}])
    assert valid["body"] == {**body, "logical_date": "{{$isoTimestamp}}", "start": "{{$isoTimestamp}}",
                             "end": "{{$isoTimestamp}}"}, "a date and a fixed value are left as they are"
    sent = variables.resolve(valid["body"], {})
    assert sent["start"] < sent["end"], "resolved in order: a start stays before its end"
    assert broken["body"]["start"] == "nope" and broken["body"]["end"] == "{{$isoTimestamp}}"


def test_a_rule_across_fields_gets_the_strings_varied_one_at_a_time() -> None:
    """Each template alone fits its field, but not both at once: a name with an underscore asks for a code of
    letters only. The row still varies both, with templates that fit together."""
    schema = {"type": "object", "required": ["name", "code"],
              "properties": {"name": {"type": "string"}, "code": {"type": "string"}},
              "if": {"properties": {"name": {"pattern": "_"}}},
              "then": {"properties": {"code": {"pattern": "^[a-z]+$"}}}}
    body = {"name": "north", "code": "abc"}
    [row] = uniqueness.vary(schema, [{"name": "v", "kind": "valid", "keyword": None, "pointer": "", "body": body}])
    assert variables.has_template(row["body"]["name"]) and variables.has_template(row["body"]["code"]), row["body"]
    assert not validate_body(schema, variables.example(row["body"]))
    assert not validate_body(schema, variables.resolve(row["body"], {})), "and so does every run"


def test_names_inside_the_branch_a_value_takes_are_kept_unique_too() -> None:
    """A bulk request (Airflow's PATCH /pools): actions of several kinds, each kind its own entities."""
    pool = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 50},
                                                                   "slots": {"type": "integer"}}}
    create = {"type": "object", "required": ["action", "entities"], "properties": {
        "action": {"const": "create"}, "entities": {"type": "array", "items": pool}}}
    delete = {"type": "object", "required": ["action", "entities"], "properties": {
        "action": {"const": "delete"}, "entities": {"type": "array", "items": {"type": "string"}}}}
    schema = {"type": "object", "properties": {
        "actions": {"type": "array", "items": {"oneOf": [create, delete]}},
        "labels": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "key": {"type": "string"}}}}}}
    body = {"actions": [{"action": "create", "entities": [{"name": "north", "slots": 2}]},
                        {"action": "delete", "entities": ["south"]}], "labels": {"team": {"key": "qa"}}}
    [row] = uniqueness.vary(schema, [{"name": "v", "kind": "valid", "keyword": None, "pointer": "", "body": body}])
    varied = row["body"]
    assert varied["actions"][0]["entities"][0]["name"].startswith("north") and \
        variables.has_template(varied["actions"][0]["entities"][0]["name"])
    assert varied["actions"][1] == body["actions"][1], "a delete names what exists: not a name of its own"
    assert variables.has_template(varied["labels"]["team"]["key"]), "a map's values are fields too"
    assert not validate_body(schema, variables.example(varied))


def test_documented_examples_come_before_invented_values() -> None:
    schema = {"type": "object", "required": ["key", "size"], "properties": {
        "key": {"type": "string", "pattern": "^[a-z_]+$", "examples": ["Not Valid", "my_variable"]},
        "size": {"type": "integer", "default": 7, "minimum": 1},
        "color": {"type": "string", "enum": ["red", "blue"], "examples": ["blue"]},
    }}
    baseline = rows_of(schema)[0]["body"]
    assert variables.example(baseline["key"]).startswith("my_variable"), "the first valid example"
    assert baseline["size"] == 7 and baseline["color"] == "blue"


def test_every_operation_gets_several_valid_rows_covering_enums_branches_and_the_minimum() -> None:
    schema = {"type": "object", "required": ["pet"], "properties": {
        "pet": {"oneOf": [
            {"type": "object", "required": ["kind", "bark"], "properties": {"kind": {"const": "dog"},
                                                                            "bark": {"type": "boolean"}}},
            {"type": "object", "required": ["kind", "lives"], "properties": {"kind": {"const": "cat"},
                                                                             "lives": {"type": "integer"}}}]},
        "size": {"type": "string", "enum": ["s", "m", "l"]},
        "note": {"type": ["string", "null"]},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "minLength": 2}},
    }}
    rows = rows_of(schema)
    assert validate_rows(schema, rows)["all_match"]
    valid = [row for row in rows if row["kind"] == "valid"]
    bodies = [row["body"] for row in valid]
    assert len(valid) >= 3 and all(not validate_body(schema, variables.example(body)) for body in bodies)
    assert {"required_only_valid", "pet_oneOf_1_valid"} <= {row["name"] for row in valid}
    assert {body["size"] for body in bodies if "size" in body} == {"s", "m", "l"}
    assert {body["pet"]["kind"] for body in bodies} == {"dog", "cat"}
    assert any(body.get("note", "") is None for body in bodies), "a nullable field is sent as null once"
    assert bodies[0]["labels"], "a map gets an entry"
    assert next(row for row in valid if row["name"] == "required_only_valid")["body"].keys() == {"pet"}


def test_an_array_body_is_an_array() -> None:
    schema = {"type": "array", "minItems": 1, "maxItems": 3, "items": {
        "type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 20}}}}
    rows = rows_of(schema)
    assert validate_rows(schema, rows)["all_match"]
    assert isinstance(rows[0]["body"], list) and rows[0]["body"]
    assert all(variables.has_template(item["name"]) for item in rows[0]["body"]), "every item's name varies"
    kinds = Counter(row["kind"] for row in rows)
    assert kinds["boundary"] and kinds["invalid"]


def test_a_name_that_says_a_standard_notation_gets_a_value_in_it() -> None:
    """Prefect parses a schedule's rrule (RFC 5545) and refuses "sample value"; cron and time zones likewise."""
    text = {"type": "string"}
    schema = {"type": "object", "required": ["rrule", "cron", "timezone"],
              "properties": {"rrule": text, "cron": text, "timezone": text}}
    for seed in range(5):
        body = sample(schema, random.Random(seed))
        assert re.fullmatch(r"FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;[A-Z]+=[A-Z0-9,]+)*", body["rrule"]), body
        assert len(body["cron"].split()) == 5, body
        assert ZoneInfo(body["timezone"]).key == body["timezone"], body
