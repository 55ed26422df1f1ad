"""Optional ids of resources nothing makes are left out of the rows: an invented one names nothing (404, 409)."""

from __future__ import annotations

from core.records import DataRow
from core.schema.references import without_made_up_ids

UUID = {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}
SCHEMA = {"type": "object", "required": ["name", "flow_id", "parent_run_id"], "properties": {
    "parent_run_id": UUID,
    "name": {"type": "string"}, "flow_id": {"type": "string", "format": "uuid"},
    "default_queue_id": UUID, "parent_id": {"type": "integer"}, "external_id": {"type": "string"},
    "work_pool_name": {"type": "string"}, "deployment_id": UUID,
    "tags": {"type": "array", "items": {"type": "object", "properties": {"label_id": {"type": "integer"},
                                                                          "text": {"type": "string"}}}}}}
FULL = {"name": "n", "flow_id": "5f0c6a52-7b3e-4f5e-9d5c-2a1b3c4d5e6f", "parent_run_id": "{{$uuid}}",
        "default_queue_id": "0c2b7c4e-0000-4000-8000-0f1e2d3c4b5a",
        "parent_id": 3, "external_id": "ext-1", "work_pool_name": "pool", "deployment_id": None,
        "tags": [{"label_id": 1, "text": "a"}, {"label_id": 2}]}


def row(body: dict, kind: str = "valid", keyword: str | None = None, pointer: str = "") -> DataRow:
    return DataRow(name="r", kind=kind, keyword=keyword, pointer=pointer, description="",  # type: ignore[typeddict-item]
                   expected_status=200, body=body, source="offline")


def test_optional_uuid_and_integer_references_are_left_out_at_any_depth() -> None:
    [kept] = without_made_up_ids(SCHEMA, [row(FULL)], "/deployments", set())
    assert kept["body"] == {"name": "n", "flow_id": FULL["flow_id"], "parent_run_id": None, "external_id": "ext-1",
                            "work_pool_name": "pool", "deployment_id": None, "tags": [{"text": "a"}, {}]}, \
        "required ids stay (null where they may be); free strings and names stay (a person may choose them); " \
        "the own resource's id stays"


def test_what_the_setup_makes_and_what_a_row_targets_stay() -> None:
    [made] = without_made_up_ids(SCHEMA, [row(FULL)], "/deployments", {"parent_id", "default_queue_id"})
    assert made["body"]["parent_id"] == 3 and "default_queue_id" in made["body"]
    broken = {**FULL, "parent_id": "three"}
    [targeted] = without_made_up_ids(SCHEMA, [row(broken, "invalid", "type", "/parent_id")], "/deployments", set())
    assert targeted["body"]["parent_id"] == "three", "the row breaks this field: it stays"
    assert "default_queue_id" not in targeted["body"]


def test_a_row_that_would_stop_doing_what_it_means_keeps_the_field() -> None:
    schema = {**SCHEMA, "minProperties": 8}
    [kept] = without_made_up_ids(schema, [row(FULL)], "/deployments", set())
    assert "tags" in kept["body"] and len(kept["body"]) >= 8, "the schema asks for eight members at least"
    unchanged = row({"name": "n", "flow_id": FULL["flow_id"], "parent_run_id": None})
    assert without_made_up_ids(SCHEMA, [unchanged], "/deployments", set())[0] is unchanged
