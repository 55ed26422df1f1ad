"""Inlining the references of recursive schemas: what the copy holds, and that recurring parts are shared."""

from __future__ import annotations

from typing import Any

from core.generation.offline.checks import _response_paths
from core.schema.walk import MAX_REF_DEPTH, resolve_refs, walk

NODE = {"type": "object", "properties": {"name": {"type": "string"}, "child": {"$ref": "#/$defs/Node"}}}
TREE = {"type": "object", "properties": {"root": {"$ref": "#/$defs/Node", "description": "the top"}},
        "$defs": {"Node": NODE}}


def node_met_at(depth: int) -> dict[str, Any]:
    """What a {"$ref": "#/$defs/Node"} met at ``depth`` references deep becomes: cut at MAX_REF_DEPTH."""
    if depth >= MAX_REF_DEPTH:
        return {}
    return {"type": "object", "properties": {"name": {"type": "string"}, "child": node_met_at(depth + 1)}}


def test_a_recursive_schema_is_inlined_down_to_the_depth_limit_keeping_the_siblings_of_each_ref() -> None:
    resolved = resolve_refs(TREE)
    assert resolved["properties"]["root"] == {**node_met_at(0), "description": "the top"}
    assert resolved["$defs"]["Node"] == {**NODE, "properties": {**NODE["properties"], "child": node_met_at(0)}}
    assert TREE["properties"]["root"] == {"$ref": "#/$defs/Node", "description": "the top"}, "the input is kept"


def test_a_ref_to_a_ref_is_followed_to_the_schema() -> None:
    schema = {"properties": {"code": {"$ref": "#/$defs/A"}},
              "$defs": {"A": {"$ref": "#/$defs/B", "title": "A"}, "B": {"type": "string", "maxLength": 3}}}
    assert resolve_refs(schema)["properties"]["code"] == {"type": "string", "maxLength": 3, "title": "A"}


def test_step_7_names_the_response_fields_of_every_level_a_clause_mentions() -> None:
    expected = [".".join(["root", *["child"] * level, "name"]) for level in range(MAX_REF_DEPTH)]
    assert _response_paths(TREE, "201 and the node's name is returned") == expected


def triggers(width: int) -> dict[str, Any]:
    """Triggers that nest triggers ``width`` ways (as Prefect's automations do): a tree of width ** 8 copies."""
    kinds = {f"Kind{index}": {"type": "object", "properties": {
        "triggers": {"type": "array", "items": {"$ref": "#/$defs/Trigger"}},
        "within": {"type": "number", "minimum": 0}}} for index in range(width)}
    trigger = {"anyOf": [{"$ref": f"#/$defs/{name}"} for name in kinds]}
    return {"type": "object", "required": ["trigger"], "properties": {"trigger": {"$ref": "#/$defs/Trigger"}},
            "$defs": {"Trigger": trigger, **kinds}}


def distinct_nodes(node: Any, seen: set[int]) -> int:
    if not isinstance(node, (dict, list)) or id(node) in seen:
        return 0
    seen.add(id(node))
    children = node.values() if isinstance(node, dict) else node
    return 1 + sum(distinct_nodes(child, seen) for child in children)


def test_parts_that_recur_at_one_depth_are_inlined_once_and_shared() -> None:
    schema = triggers(width=6)
    resolved = resolve_refs(schema)
    assert distinct_nodes(resolved, set()) < 60 * MAX_REF_DEPTH  # a tree: about 6 ** 8, 1.7 million
    first = resolved["properties"]["trigger"]["anyOf"][0]
    assert first["properties"]["triggers"]["items"]["anyOf"][5]["properties"]["within"] == {
        "type": "number", "minimum": 0}
    assert [field.pointer for field in walk(resolved)] == ["", "/trigger"]
