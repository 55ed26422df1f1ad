"""Reading what real servers say about a refused body, and the fix each answer leads to."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from core.generation.offline.server_errors import read
from core.generation.offline.server_repairs import null_refused, repair, repair_body
from core.library.sandbox import EXCERPT_CHARS, excerpt
from core.records import DataRow, Verdict
from core.schema import variables
from core.schema.walk import resolve_refs

SHAPES = [
    ("FastAPI / pydantic 2", 422, {"detail": [{"type": "string_pattern_mismatch", "loc": ["body", "name"],
                                               "msg": "String should match pattern '^[a-z_]+$'",
                                               "ctx": {"pattern": "^[a-z_]+$"}}]}, ("name",), "pattern"),
    ("pydantic 1", 422, {"detail": [{"loc": ["body", "email"], "msg": "field required",
                                     "type": "value_error.missing"}]}, ("email",), "required"),
    ("RFC 7807", 400, {"type": "about:blank", "title": "Bad Request", "status": 400,
                       "invalid-params": [{"name": "age", "reason": "must be greater than or equal to 18"}]},
     ("age",), "minimum"),
    ("Django REST framework", 400, {"username": ["This field is required."]}, ("username",), "required"),
    ("express-validator", 400, {"errors": [{"type": "field", "msg": "must be lowercase", "path": "handle",
                                            "location": "body", "value": "Bob"}]}, ("handle",), "lowercase"),
    ("Spring", 400, {"status": 400, "error": "Bad Request", "message": "Validation failed",
                     "errors": [{"field": "title", "defaultMessage": "size must be between 1 and 10"}]},
     ("title",), "length_between"),
    ("ASP.NET", 400, {"title": "One or more validation errors occurred.", "status": 400,
                      "errors": {"Name": ["The Name field is required."]}}, ("Name",), "required"),
    ("Cornice / Kinto", 400, {"code": 400, "errno": 107, "error": "Invalid parameters",
                              "details": [{"location": "body", "name": "data.id",
                                           "description": "'AB' does not match '^[a-z]+$'"}]},
     ("data", "id"), "pattern"),
    ("Prefect (pydantic under exception_detail)", 422, {
        "exception_message": "Invalid request received.", "exception_detail": [{
            "type": "value_error", "loc": ["body", "slug"], "msg": "Value error, slug must only contain lowercase "
            "letters, numbers, and dashes.", "input": "a_1", "ctx": {"error": {}}}], "request_body": {"slug": "a_1"}},
     ("slug",), "lowercase"),
    ("a bare conflict", 409, {"detail": "Project 'demo' already exists"}, (), "unique"),
]


@pytest.mark.parametrize(("shape", "status", "answer", "path", "rule"), SHAPES, ids=[shape[0] for shape in SHAPES])
def test_each_common_error_shape_names_the_field_and_the_rule(
    shape: str, status: int, answer: dict[str, Any], path: tuple[str, ...], rule: str,
) -> None:
    [hint] = read(status, json.dumps(answer))
    assert (hint.path, hint.rule) == (path, rule)


def test_numbers_patterns_and_choices_are_read_from_the_message() -> None:
    answer = {"detail": [
        {"loc": ["body", "note"], "msg": "String should have at most 10 characters", "ctx": {"max_length": 10}},
        {"loc": ["body", "state"], "msg": "Input should be 'queued', 'running' or 'success'"},
        {"loc": ["body", "id"], "msg": "'AB' does not match '^[a-z]+$'"},
    ]}
    note, state, ident = read(422, json.dumps(answer))
    assert (note.rule, note.limit) == ("max_length", 10)
    assert (state.rule, state.choices) == ("enum", ("queued", "running", "success"))
    assert (ident.rule, ident.pattern) == ("pattern", "^[a-z]+$")
    assert read(500, "<html>Internal Server Error</html>")[0].rule == "other"


SCHEMA = {"type": "object", "required": ["name"], "additionalProperties": True, "properties": {
    "name": {"type": "string", "maxLength": 30}, "size": {"type": "integer"}, "color": {"type": "string"},
    "extra": {"type": "string"}}}


def row(kind: str = "valid", body: Any = None, keyword: str | None = None, pointer: str = "") -> DataRow:
    return DataRow(name=f"{kind}_row", kind=kind, keyword=keyword, pointer=pointer, description="",  # type: ignore[typeddict-item]
                   expected_status=201 if kind == "valid" else 422, source="offline",
                   body=body or {"name": "Alice_{{$randomInt}}", "size": 500, "color": "purple", "extra": "x"})


@pytest.mark.parametrize(("answer", "check"), [
    ({"detail": [{"loc": ["body", "name"], "msg": "Name must be lowercase"}]},
     lambda body: body["name"] == "alice_{{$randomInt}}"),
    ({"detail": [{"loc": ["body", "name"], "msg": "Value error, slug must only contain lowercase letters, numbers, "
                  "and dashes."}]}, lambda body: body["name"] == "alice-{{$randomInt}}"),
    ({"detail": [{"loc": ["body", "name"], "msg": "may only contain letters and digits"}]},
     lambda body: body["name"] == "Alice{{$randomInt}}"),
    ({"detail": [{"loc": ["body", "size"], "msg": "Input should be less than or equal to 100"}]},
     lambda body: body["size"] == 100),
    ({"detail": [{"loc": ["body", "color"], "msg": "Input should be 'red' or 'blue'"}]},
     lambda body: body["color"] == "red"),
    ({"detail": [{"loc": ["body", "extra"], "msg": "Extra inputs are not permitted"}]},
     lambda body: "extra" not in body),
    ({"detail": [{"loc": ["body", "owner"], "msg": "Field required"}]}, lambda body: "owner" in body),
    ({"detail": "Project 'alice' already exists"}, lambda body: variables.has_template(body["name"])),
])
def test_a_fix_follows_the_answer_and_keeps_the_template(answer: dict[str, Any], check: Any) -> None:
    start = row() if "already" not in json.dumps(answer) else row(body={"name": "alice", "size": 1})
    body, notes = repair(start, read(422 if "detail" in answer and isinstance(answer["detail"], list) else 409,
                                     json.dumps(answer)), SCHEMA, resolve_refs(SCHEMA), random.Random(0))
    assert check(body) and notes and "the server said" in notes[0]


def test_an_invalid_row_keeps_the_value_it_breaks_the_schema_with() -> None:
    strict = {**SCHEMA, "properties": {**SCHEMA["properties"], "name": {"type": "string", "maxLength": 5}}}
    invalid = row("invalid", {"name": "Far_too_long", "size": 1}, "maxLength", "/name")
    hints = read(422, json.dumps({"detail": [{"loc": ["body", "name"], "msg": "Name must be lowercase"}]}))
    body, notes = repair(invalid, hints, strict, resolve_refs(strict), random.Random(0))
    assert body["name"] == "Far_too_long" and not notes


BULK = {"type": "object", "properties": {"actions": {"type": "array", "items": {
    "type": "object", "required": ["action", "entities"], "properties": {
        "action": {"type": "string"}, "entities": {"type": "array", "items": {
            "type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "team_name": {"type": ["string", "null"]}}}}}}}}}
WINDOW = {"type": "object", "properties": {"run_id": {"type": "string"}, "partition_key": {"type": "string"},
                                           "order_by": {"type": "string"}, "dry_run": {"type": "boolean"}}}

POOLED = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "work_pool_name": {"type": "string"}, "work_queue_name": {"type": "string"},
    "project_id": {"type": "string"}, "job_variables": {"type": "object"}, "description": {"type": "string"}}}


@pytest.mark.parametrize(("body", "answer"), [
    # the setup's project: the server lacks the resource, the field stays
    ({"name": "d", "project_id": "{{project_id}}"},
     {"detail": [{"type": "value_error", "loc": ["body", "project_id"], "msg": "Project 7 does not exist"}]}),
    # a required field is never left out
    ({"name": "Zhang Min_{{$randomInt}}"}, {"detail": "Deployment 'Zhang Min_123456' not found"}),
    # a template is not what it resolved to: another field made the same way may have drawn the value
    ({"name": "d", "work_pool_name": "{{work_pool_name}}", "description": "Li Na_{{$randomInt}}"},
     {"detail": "Work pool queue 'Li Na_482130/main' not found."}),
])
def test_a_missing_resource_keeps_what_the_row_needs(body: Any, answer: dict[str, Any]) -> None:
    fixed, notes = repair(row(body=body), read(404, json.dumps(answer)), POOLED, resolve_refs(POOLED),
                          random.Random(0))
    assert (fixed, notes) == (body, [])


@pytest.mark.parametrize(("schema", "body", "answer", "check"), [
    # pydantic puts a union's tag in the location; the message names the member it refuses
    (BULK, {"actions": [{"action": "create", "entities": [{"name": "a", "team_name": "t"}]}]},
     {"detail": [{"type": "value_error", "loc": ["body", "actions", 0, "create", "entities", 0],
                  "msg": "Value error, team_name cannot be set when multi_team mode is disabled."}]},
     lambda body: body["actions"][0]["entities"][0] == {"name": "a"}),
    # a cross-field rule the schema does not state: all but the first field named go
    (WINDOW, {"run_id": "r1", "partition_key": "p1", "dry_run": True},
     {"detail": [{"type": "value_error", "loc": ["body"],
                  "msg": "Value error, Exactly one of run_id, or partition_key must be provided."}]},
     lambda body: body == {"run_id": "r1", "dry_run": True}),
    # both or neither: the one given goes, the null one stays (what the row tests)
    ({"type": "object", "properties": {"start": {"type": ["string", "null"]}, "end": {"type": ["string", "null"]},
                                       "note": {"type": "string"}}},
     {"start": None, "end": "2024-01-01T00:00:00Z", "note": "n"},
     {"detail": [{"type": "value_error", "loc": ["body"], "msg": "Value error, Either both start and end must be "
                  "provided or both must be None"}]},
     lambda body: body == {"start": None, "note": "n"}),
    # the server's state, not the schema, refuses a field: it goes
    (WINDOW, {"run_id": "r1", "partition_key": "p1"},
     {"detail": "Dag 'd1' is not a partitioned Dag and does not accept a partition_key."},
     lambda body: body == {"run_id": "r1"}),
    # no field named, but the refused value quoted
    (WINDOW, {"run_id": "r1", "order_by": "demo text"},
     {"detail": "Ordering with 'demo text' is disallowed or the attribute does not exist on the model"},
     lambda body: body == {"run_id": "r1"}),
    # a server asking for a field to go
    (POOLED, {"name": "d", "work_pool_name": "pool"}, {"detail": "Please remove work_pool_name and try again."},
     lambda body: body == {"name": "d"}),
    # a field the server's state keeps from changing, named in words
    (POOLED, {"name": "d", "job_variables": {}},
     {"detail": "Job variables for a flow run in state PENDING cannot be updated"}, lambda body: body == {"name": "d"}),
    # invented names of things the server does not have, quoted joined
    (POOLED, {"name": "d", "work_pool_name": "north", "work_queue_name": "main"},
     {"detail": "Work pool queue 'north/main' not found."}, lambda body: body == {"name": "d"}),
])
def test_a_rule_named_in_words_is_followed(schema: dict[str, Any], body: Any, answer: dict[str, Any],
                                           check: Any) -> None:
    start = row(body=body)
    fixed, notes = repair(start, read(422, json.dumps(answer)), schema, resolve_refs(schema), random.Random(0))
    assert check(fixed), fixed
    assert notes and all(note.startswith("removed") for note in notes)


@pytest.mark.parametrize(("schema", "body", "answer", "check"), [
    # exactly one, none given: the first named is filled in (a null one counts as not given)
    (WINDOW, {"dry_run": True},
     {"detail": [{"type": "value_error", "loc": ["body"], "msg": "Value error, Exactly one of run_id, partition_key, "
                  "or a partition date window (partition_date_start / partition_date_end) must be provided."}]},
     lambda body: set(body) == {"run_id", "dry_run"} and isinstance(body["run_id"], str)),
    (WINDOW, {"run_id": None, "dry_run": True},
     {"detail": [{"type": "value_error", "loc": ["body"],
                  "msg": "Value error, Exactly one of run_id, or partition_key must be provided."}]},
     lambda body: set(body) == {"run_id", "dry_run"} and isinstance(body["run_id"], str)),
    # a null the document allows but the server refuses: a value of the field's other branch
    ({"type": "object", "properties": {"slots": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
                                       "pool": {"anyOf": [{"type": "string", "minLength": 2}, {"type": "null"}]}}},
     {"slots": None, "pool": None},
     {"detail": [{"type": "int_type", "loc": ["slots"], "msg": "Input should be a valid integer", "input": None},
                 {"type": "string_type", "loc": ["body", "pool"], "msg": "Input should be a valid string",
                  "input": None}]},
     lambda body: isinstance(body["slots"], int) and body["slots"] >= 1 and isinstance(body["pool"], str)
     and body["pool"] != "None"),
    # a field the message names in the plural, and one it names by its dotted path
    ({"type": "object", "properties": {"name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                       "kind": {"type": "string"}}},
     {"kind": "k"}, {"detail": [{"type": "value_error", "loc": ["body"],
                                 "msg": "Value error, Names must be provided for block documents."}]},
     lambda body: isinstance(body.get("name"), str) and body["kind"] == "k"),
    ({"type": "object", "properties": {"runs": {"type": "object", "properties": {"start": {"anyOf": [
        {"type": "object", "properties": {"after_": {"type": "string", "format": "date-time"}}}, {"type": "null"}]},
        "name": {"type": "string"}}}}},
     {"runs": {"start": None, "name": "n"}}, {"detail": "runs.start.after_ is required"},
     lambda body: isinstance(body["runs"]["start"].get("after_"), str) and body["runs"]["name"] == "n"),
    # a map the server wants a member in that the schema does not name (Prefect's event resources), in every item
    ({"type": "array", "items": {"type": "object", "properties": {
        "resource": {"type": "object", "additionalProperties": {"type": "string"}},
        "related": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
     [{"resource": {"app": "a"}, "related": [{"app": "b"}]}],
     {"exception_detail": [
         {"type": "value_error", "loc": ["body", 0, "resource"],
          "msg": "Value error, Resources must include the prefect.resource.id label"},
         {"type": "value_error", "loc": ["body", 0, "related", 0],
          "msg": "Value error, Related resources must include the `prefect.resource.role` key"}]},
     lambda body: isinstance(body[0]["resource"].get("prefect.resource.id"), str)
     and body[0]["resource"]["app"] == "a" and isinstance(body[0]["related"][0].get("prefect.resource.role"), str)),
    # the server lists what it has after the value it refuses: one of those, not the refused one
    ({"type": "object", "properties": {"executor": {"type": ["string", "null"]}, "conn_id": {"type": "string"}}},
     {"executor": "example entry", "conn_id": "c1"},
     {"detail": "Executor 'example entry' is not configured. Configured executors: ['LocalExecutor']"},
     lambda body: body == {"executor": "LocalExecutor", "conn_id": "c1"}),
])
def test_a_value_the_server_misses_is_filled_in(schema: dict[str, Any], body: Any, answer: dict[str, Any],
                                                check: Any) -> None:
    fixed, notes = repair(row(body=body), read(422, json.dumps(answer)), schema, resolve_refs(schema),
                          random.Random(0))
    assert check(fixed), fixed
    assert notes and all(note.startswith(("added", "changed")) for note in notes), notes


NESTED = {"type": "object", "properties": {
    "data": {"type": "object", "properties": {"id": {"type": "string"}, "password": {"type": "string"}}},
    "permissions": {"type": "object", "properties": {"read": {"type": "array", "items": {"type": "string"}}}}}}


@pytest.mark.parametrize(("body", "answer", "check"), [
    # Cornice names a nested field the document calls optional: it is added where it belongs
    ({"data": {"password": "S3cure!Pass"}},
     {"code": 400, "details": [{"location": "body", "name": "data.id", "description": "data.id in body: Required"}]},
     lambda body: set(body["data"]) == {"id", "password"}),
    # "at least one of": the body had none of them, the first named is added
    ({}, {"code": 400, "details": [{"location": "body", "name": "data",
                                    "description": "Provide at least one of data or permissions"}]},
     lambda body: list(body) == ["data"]),
])
def test_a_field_the_server_wants_is_added_where_it_belongs(body: Any, answer: dict[str, Any], check: Any) -> None:
    fixed, notes = repair(DataRow(**{**row(), "body": body}), read(400, json.dumps(answer)), NESTED,
                          resolve_refs(NESTED), random.Random(0))
    assert check(fixed), fixed
    assert notes and notes[0].startswith("added")


def test_words_inside_other_words_name_no_rule() -> None:
    assert read(400, "Validation failed for the update of this resource")[0].rule == "other"


def test_a_long_answer_keeps_every_message_in_its_excerpt() -> None:
    echoed = {"connection_id": "x" * 5000, "extra": "y" * 5000}
    answer = {"detail": [{"type": "value_error", "loc": ["body", "entities", index], "input": echoed,
                          "msg": "Value error, team_name cannot be set"} for index in range(3)]}
    text = excerpt(json.dumps(answer))
    assert len(text) <= EXCERPT_CHARS
    assert [(hint.path, hint.rule) for hint in read(422, text)] == [(("entities", str(index)), "unknown")
                                                                      for index in range(3)]


def test_a_refused_value_inside_a_list_is_taken_out_of_it() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"},
                                               "tags": {"type": "array", "items": {"type": "string"}}}}
    answer = {"detail": "The tag 'urgent' is not allowed here"}
    body, notes = repair(row(body={"name": "a", "tags": ["urgent", "ok"]}), read(400, json.dumps(answer)), schema,
                         resolve_refs(schema), random.Random(0))
    assert body == {"name": "a", "tags": ["ok"]} and notes == ["removed tags.0 (the server said: "
                                                               "The tag 'urgent' is not allowed here)"]


def test_a_null_the_server_refuses_without_a_reason_is_left_out() -> None:
    schema = {"type": "object", "properties": {"name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                               "value": {"type": "string"}}}
    conflict = Verdict(status=409, excerpt='{"detail":"Data integrity conflict."}', duration_ms=3, agrees=False)
    sends_null = row(body={"name": None, "value": "v"}, keyword="anyOf", pointer="/name")
    body, notes = null_refused(sends_null, conflict, schema)
    assert body == {"value": "v"} and notes and notes[0].startswith("left out name (the server answered 409")
    assert null_refused(row(body={"name": "n", "value": "v"}, keyword="anyOf", pointer="/name"), conflict,
                        schema)[1] == [], "only a null is left out"
    accepted = Verdict(status=500, excerpt="", duration_ms=3, agrees=False)
    assert null_refused(sends_null, accepted, schema)[1] == [], "a server error says nothing about the null"


def test_a_setup_step_referring_to_an_earlier_capture_is_still_repaired() -> None:
    """``{{block_schema_id}}`` is known only when the setup runs: its format cannot be checked, and must not
    block the fix of the field the server named (Prefect's block document names)."""
    schema = {"type": "object", "required": ["block_schema_id"], "properties": {
        "name": {"type": "string"}, "block_schema_id": {"type": "string", "format": "uuid"}}}
    answer = json.dumps({"exception_detail": [{"type": "value_error", "loc": ["body", "name"],
                                               "msg": "Value error, Block document name must only contain lowercase "
                                                      "letters, numbers, and dashes."}]})
    body, notes = repair_body({"name": "Li Na_{{$randomInt}}", "block_schema_id": "{{block_schema_id}}"}, 422,
                              answer, schema)
    assert body == {"name": "li-na-{{$randomInt}}", "block_schema_id": "{{block_schema_id}}"} and notes
    refused, _ = repair_body({"name": "Li Na", "block_schema_id": "not-a-uuid"}, 422, answer, schema)
    assert refused["name"] == "Li Na", "a value that is not a template is still checked: the fix would keep it wrong"
