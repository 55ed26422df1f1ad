"""Body fields naming what the case's setup makes take its variable, where the schema still accepts the row."""

from __future__ import annotations

from typing import Any

from core.records import DataRow, SetupStep
from core.schema.path_fields import bind

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "slots": {"type": "integer"},
                                           "code": {"type": "string", "pattern": "^[a-z]+$"},
                                           "owner_id": {"type": "integer", "minimum": 1}}}


def row(body: dict, kind: str = "valid", pointer: str = "") -> DataRow:
    return DataRow(name="r", kind=kind, keyword="maxLength" if pointer else None, pointer=pointer,  # type: ignore[typeddict-item]
                   description="", expected_status=200, body=body, source="offline")


def step(name: str, **examples: Any) -> SetupStep:
    return SetupStep(name="make", method="POST", path="/things", query={}, body=None, media_type="application/json",
                     captures={name: ["id"]}, cleanup=None, scene_id=None,
                     **({"examples": examples} if examples else {}))  # type: ignore[typeddict-item]


def test_the_field_named_like_the_parameter_takes_its_variable() -> None:
    [bound] = bind(SCHEMA, [row({"name": "Alice", "slots": 3})], "/pools/{pool_name}", [step("pool_name")])
    assert bound["body"] == {"name": "{{pool_name}}", "slots": 3}
    [same] = bind(SCHEMA, [row({"code": "abc"})], "/codes/{code}", [step("code")])
    assert same["body"] == {"code": "abc"}, "the schema's pattern refuses the template: left as it is"
    [coded] = bind(SCHEMA, [row({"code": "abc"})], "/codes/{code}", [step("code", code="xyz")])
    assert coded["body"] == {"code": "{{code}}"}, "checked with the step's example of the path's value"
    [headed] = bind(SCHEMA, [row({"code": "abc", "slots": 2})], "/codes/{code_key}", [step("code_key", code_key="q")])
    assert headed["body"] == {"code": "{{code_key}}", "slots": 2}, "the words before an id-like last one"


def test_fields_deeper_down_called_like_a_path_parameter_take_its_variable() -> None:
    schema = {"type": "object", "properties": {"runs": {"type": "array", "items": {
        "type": "object", "properties": {"dag_id": {"type": "string"}, "owner_id": {"type": "string"}}}}}}
    [bound] = bind(schema, [row({"runs": [{"dag_id": "a_1", "owner_id": "o"}, {"dag_id": "b_2"}]})],
                   "/dags/{dag_id}/clear", [step("dag_id")])
    assert bound["body"] == {"runs": [{"dag_id": "{{dag_id}}", "owner_id": "o"}, {"dag_id": "{{dag_id}}"}]}
    [reference] = bind(schema, [row({"runs": [{"owner_id": "o"}]})], "/dags/{dag_id}/clear",
                       [step("dag_id"), step("owner_id", owner_id="x")])
    assert reference["body"] == {"runs": [{"owner_id": "{{owner_id}}"}]}, "a reference at any depth too"


def test_a_field_that_refers_to_a_resource_takes_its_variable_checked_with_its_example() -> None:
    [bound] = bind(SCHEMA, [row({"owner_id": 5, "slots": 3})], "/pools", [step("owner_id", owner_id=7)])
    assert bound["body"] == {"owner_id": "{{owner_id}}", "slots": 3}
    [kept] = bind(SCHEMA, [row({"owner_id": 5})], "/pools", [step("owner_id", owner_id="seven")])
    assert kept["body"] == {"owner_id": 5}, "an example the schema refuses: the row keeps its value"
    [exact] = bind(SCHEMA, [row({"name": "Alice"})], "/pools", [step("pool_name", pool_name="x")])
    assert exact["body"] == {"name": "Alice"}, "a reference binds its own field name only, not its last word"


def test_a_row_that_targets_the_field_keeps_its_value() -> None:
    [kept] = bind(SCHEMA, [row({"name": "x" * 40}, "invalid", "/name")], "/pools/{pool_name}", [step("pool_name")])
    assert kept["body"] == {"name": "x" * 40}
    [edge] = bind(SCHEMA, [row({"name": "abc"}, "boundary", "/name")], "/pools/{pool_name}", [step("pool_name")])
    assert edge["body"] == {"name": "abc"}, "a boundary row keeps the length it tests"
    [variant] = bind(SCHEMA, [row({"name": "other"}, "valid", "/name")], "/pools/{pool_name}", [step("pool_name")])
    assert variant["body"] == {"name": "{{pool_name}}"}, "a valid row sends the path's name: servers refuse others"
    assert bind(SCHEMA, [row({"slots": 1})], "/pools", []) == [row({"slots": 1})]
