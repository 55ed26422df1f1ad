"""OpenAPI schema objects as JSON Schema 2020-12: every $ref inlined, recursion kept finite in $defs.

A scene's schemas must stand alone (the workflow validates bodies with Draft202012Validator
and never sees the document), so each reference is looked up with ``referencing`` and copied
in place. A reference met again while it is still being expanded (a category whose children
are categories) becomes ``{"$ref": "#/$defs/Name"}`` and its expansion is hoisted into the
schema's ``$defs``. OpenAPI 3.0's dialect is translated: ``nullable`` becomes a type union,
boolean ``exclusiveMinimum``/``exclusiveMaximum`` become numbers, ``example`` becomes
``examples``; properties a request must not send (readOnly) or a response never carries
(writeOnly) are left out; ``allOf`` of plain object schemas is merged into one object.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from core.errors import InvalidInput
from core.schema.walk import parse_pointer

if TYPE_CHECKING:
    from referencing._core import Resolver

Direction = Literal["request", "response"]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas")
SCHEMA_VALUES = (
    "additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames",
    "unevaluatedProperties", "unevaluatedItems",
)
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
DROPPED = (
    "nullable", "example", "discriminator", "xml", "externalDocs", "$id", "$schema", "$anchor",
    "$dynamicAnchor", "$dynamicRef", "$defs", "definitions",
)
"""Keywords not carried into a scene: OpenAPI-only ones, and identifiers that would move the base of its $refs."""
NOT_MERGEABLE = ("$ref", "anyOf", "oneOf", "not", "if", "allOf")
MAX_EXPANSIONS = 5000
"""References inlined into one schema at most: a guard against documents whose shared schemas multiply."""
MAX_INTEGER_LIMIT = 2**53
"""The largest limit an integer field may have: the workflow computes values just past each limit, and those
must stay whole numbers within 64 bits."""
INTEGER_LIMITS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def to_json_schema(node: Any, resolver: Resolver, *, legacy: bool, direction: Direction) -> dict[str, Any]:
    """A standalone 2020-12 schema for the OpenAPI schema object ``node``.

    ``legacy`` is True for OpenAPI 3.0 documents, whose schema objects are not plain JSON Schema.
    """
    inliner = _Inliner(resolver=resolver, legacy=legacy, direction=direction)
    converted = inliner.schema(node)
    result: dict[str, Any] = {"$schema": DRAFT_2020_12}
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        result["title"] = _name_of(node["$ref"])
    result.update(converted if isinstance(converted, dict) else {"not": {}} if converted is False else {})
    if inliner.defs:
        result["$defs"] = inliner.defs
    return result


def check_runnable(schema: dict[str, Any], what: str) -> None:
    """Refuses a schema the workflow could not run, naming ``what`` and why.

    It must be valid JSON Schema 2020-12, the dialect the workflow validates bodies with, its
    and its patterns regular expressions Python compiles (rows are generated and checked with them).
    """
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "its top level"
        raise InvalidInput("{what} has a schema the workflow cannot use: {value} (at {where}).",
                           what=what, value=error.message[:200], where=where) from None


def without_unworkable_limits(node: Any) -> Any:
    """``node`` without the limits of integer fields past ±2^53, which the workflow cannot compute with.

    Documents written by Java or Go tooling bound integers by the int64 or uint64 range
    (``maximum: 9223372036854775807``): such a limit means "no limit" in practice, so it is
    dropped (no boundary or invalid row targets it) rather than refusing the document.
    """
    if isinstance(node, list):
        return [without_unworkable_limits(item) for item in node]
    if not isinstance(node, dict):
        return node
    types = node.get("type")
    integer = types == "integer" or (isinstance(types, list) and "integer" in types)
    return {key: without_unworkable_limits(value) for key, value in node.items()
            if not (integer and key in INTEGER_LIMITS and isinstance(value, (int, float))
                    and not isinstance(value, bool) and abs(value) > MAX_INTEGER_LIMIT)}


def lookup(resolver: Resolver, ref: str) -> Any:
    """What ``ref`` points to in the document; a clear error when it points nowhere."""
    if not ref.startswith("#"):
        raise InvalidInput("The reference {ref!r} points outside the document; bundle the document into one "
                           "file first.", ref=ref)
    try:
        return resolver.lookup(ref).contents
    except Unresolvable:
        raise InvalidInput("The reference {ref!r} points to nothing in the document.", ref=ref) from None


@dataclass
class _Inliner:
    resolver: Resolver
    legacy: bool
    direction: Direction
    defs: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    expanding: list[str] = field(default_factory=list)
    recursive: set[str] = field(default_factory=set)
    expansions: int = 0

    def schema(self, node: Any) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise InvalidInput("A schema must be an object, found {name}: {value}",
                               name=type(node).__name__, value=str(node)[:80])
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._reference(ref, node)
        return self._node(node)

    def _reference(self, ref: str, node: dict[str, Any]) -> Any:
        if ref in self.expanding:
            self.recursive.add(ref)
            return {"$ref": f"#/$defs/{self._def_name(ref)}"}
        self.expansions += 1
        if self.expansions > MAX_EXPANSIONS:
            raise InvalidInput("A schema grows past {max_expansions} inlined references; it is too large to "
                               "import.", max_expansions=MAX_EXPANSIONS)
        self.expanding.append(ref)
        expanded = self.schema(lookup(self.resolver, ref))
        self.expanding.pop()
        if ref in self.recursive:
            self.defs.setdefault(self._def_name(ref), expanded)
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        if self.legacy or not siblings or not isinstance(expanded, dict):  # 3.0 ignores keywords beside $ref
            return copy.deepcopy(expanded)
        return {**copy.deepcopy(expanded), **self._node(siblings)}

    def _def_name(self, ref: str) -> str:
        if ref not in self.names:
            base, number = _name_of(ref), 2
            name = base
            while name in self.names.values():
                name, number = f"{base}_{number}", number + 1
            self.names[ref] = name
        return self.names[ref]

    def _node(self, node: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in node.items():
            if key.startswith("x-") or key in DROPPED:
                continue
            if key in SCHEMA_MAPS and isinstance(value, dict):
                result[key] = {name: self.schema(sub) for name, sub in value.items()}
            elif key in SCHEMA_VALUES and isinstance(value, (dict, bool)):
                result[key] = self.schema(value)
            elif key in SCHEMA_LISTS and isinstance(value, list):
                result[key] = [self.schema(sub) for sub in value]
            else:
                result[key] = copy.deepcopy(value)
        if "example" in node and "examples" not in result:
            result["examples"] = [copy.deepcopy(node["example"])]
        result = _without_hidden(result, "readOnly" if self.direction == "request" else "writeOnly")
        if isinstance(result.get("allOf"), list):
            result = merge_all_of(result)
        if self.legacy:
            result = _from_openapi_30(result, nullable=node.get("nullable") is True)
        return result


def _name_of(ref: str) -> str:
    parts = parse_pointer(ref.split("#", 1)[1]) if "#" in ref else []
    return parts[-1] if parts and parts[-1] else "Schema"


def _without_hidden(node: dict[str, Any], flag: str) -> dict[str, Any]:
    """``node`` without the properties marked ``flag`` (readOnly in requests, writeOnly in responses)."""
    declared = node.get("properties")
    if not isinstance(declared, dict):
        return node
    hidden = {name for name, sub in declared.items() if isinstance(sub, dict) and sub.get(flag) is True}
    if not hidden:
        return node
    result = {**node, "properties": {name: sub for name, sub in declared.items() if name not in hidden}}
    if isinstance(node.get("required"), list):
        result["required"] = [name for name in node["required"] if name not in hidden]
    return result


def merge_all_of(node: dict[str, Any]) -> dict[str, Any]:
    """One object schema for an ``allOf`` of plain object schemas; ``node`` itself when they clash."""
    members = node["allOf"]
    if not all(isinstance(member, dict) and _mergeable(member) for member in members):
        return node
    merged = {key: value for key, value in node.items() if key != "allOf"}
    for member in members:
        for key, value in member.items():
            if key == "properties":
                target = merged.setdefault("properties", {})
                if any(name in target and target[name] != sub for name, sub in value.items()):
                    return node
                target.update(value)
            elif key == "required":
                known = merged.get("required", [])
                merged["required"] = known + [name for name in value if name not in known]
            elif key in ("title", "description", "examples"):
                merged.setdefault(key, value)
            elif key in merged and merged[key] != value:
                return node
            else:
                merged[key] = value
    return merged


def _mergeable(member: dict[str, Any]) -> bool:
    return not any(key in member for key in NOT_MERGEABLE) and member.get("additionalProperties") is not False


def _from_openapi_30(node: dict[str, Any], *, nullable: bool) -> dict[str, Any]:
    """OpenAPI 3.0's exclusive bounds and ``nullable`` in 2020-12 form."""
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = node.get(exclusive)
        if isinstance(flag, bool):
            del node[exclusive]
            if flag and bound in node:
                node[exclusive] = node.pop(bound)
    if not nullable:
        return node
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    declared = node.get("type")
    if isinstance(declared, str):
        node["type"] = [declared, "null"]
        return node
    if declared is None:
        return {"anyOf": [node, {"type": "null"}]}
    return node
