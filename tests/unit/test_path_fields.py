"""A body field naming the path's resource takes the path's variable, where the schema still accepts the row."""

from __future__ import annotations

from core.records import DataRow
from core.schema.path_fields import bind

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "slots": {"type": "integer"},
                                           "code": {"type": "string", "pattern": "^[a-z]+$"}}}


def row(body: dict, kind: str = "valid", pointer: str = "") -> DataRow:
    return DataRow(name="r", kind=kind, keyword="maxLength" if pointer else None, pointer=pointer,  # type: ignore[typeddict-item]
                   description="", expected_status=200, body=body, source="offline")


def test_the_field_named_like_the_parameter_takes_its_variable() -> None:
    [bound] = bind(SCHEMA, [row({"name": "Alice", "slots": 3})], ["pool_name"])
    assert bound["body"] == {"name": "{{pool_name}}", "slots": 3}
    [same] = bind(SCHEMA, [row({"code": "abc"})], ["code"])
    assert same["body"] == {"code": "abc"}, "the schema's pattern refuses the template: left as it is"


def test_a_row_that_targets_the_field_keeps_its_value() -> None:
    [kept] = bind(SCHEMA, [row({"name": "x" * 40}, "invalid", "/name")], ["pool_name"])
    assert kept["body"] == {"name": "x" * 40}
    assert bind(SCHEMA, [row({"slots": 1})], []) == [row({"slots": 1})]
