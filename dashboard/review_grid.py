"""The review grid's model: generated rows as flat records, one column per body field, and back.

Nested objects become dotted columns ("shipping_address.city"). Each column gets a kind
from the scene's schema and from the values the rows hold, so a cell can always show
what a row really has (an invalid row may put a string in an integer field):

    number  integers or numbers, with the schema's bounds shown
    bool    booleans
    enum    one of the schema's values (plus any other value a row holds)
    text    strings
    list    arrays of strings
    json    anything else, written as JSON text; read-only when it holds objects in arrays
            (those are edited in the raw-JSON editor)

An empty cell means the field is absent from the body. Edits are applied to each row's
own body as patches, so what was not edited stays exactly as generated.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from dashboard import i18n
from dashboard.i18n import N_, _

META_COLUMNS = ("_name", "_check", "_kind", "_keyword", "_pointer", "_expected_status", "_description")
"""Grid columns that are not body fields (body fields never start with "_" here; see column_key)."""
ROW_KINDS = ("valid", "boundary", "invalid")
ROW_FIELDS = ("name", "kind", "keyword", "pointer", "description", "expected_status", "body")
"""What a reviewer's row carries back to the service (service.corrected_rows)."""


@dataclass(frozen=True, kw_only=True)
class FieldColumn:
    """One body field as a grid column."""

    key: str  # the column's key in the grid's records
    path: tuple[str, ...]  # property names from the body down to the field
    kind: str  # number | bool | enum | text | list | json
    title: str = ""  # the schema's title (e.g. a Chinese label)
    required: bool = False
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    multiple_of: float | None = None
    options: tuple[Any, ...] = ()
    read_only: bool = False
    help: str = field(default="", compare=False)


def columns_for(schema: dict[str, Any], rows: list[dict[str, Any]]) -> list[FieldColumn]:
    """The body columns for ``rows``: every schema field, then fields only the rows have."""
    bodies = [row.get("body") if isinstance(row.get("body"), dict) else {} for row in rows]
    columns: list[FieldColumn] = []
    _walk(schema if isinstance(schema, dict) else {}, (), bodies, columns)
    taken: set[str] = set()
    unique = []
    for column in columns:
        key = column.key
        while key in taken:
            key += "'"
        taken.add(key)
        unique.append(column if key == column.key else _replace(column, key=key))
    return unique


def form_fields(schema: dict[str, Any], rows: list[dict[str, Any]]) -> list[FieldColumn]:
    """The form view's fields: one per top-level body field (the schema's, then fields only the rows have).

    A nested object is one JSON field here, where the grid has a column per nested field; a form
    field is never read-only, since a text area holds any JSON.
    """
    schema = schema if isinstance(schema, dict) else {}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    bodies = [row.get("body") if isinstance(row.get("body"), dict) else {} for row in rows]
    names = list(properties)
    for body in bodies:
        names.extend(name for name in body if name not in names)
    required = set(schema.get("required") or [])
    fields = []
    for name in names:
        node = properties.get(name) if isinstance(properties.get(name), dict) else {}
        field_ = replace(_leaf((name,), node, [b[name] for b in bodies if name in b], name in required),
                         read_only=False)
        fields.append(replace(field_, help=describe(field_, node, empty=N_("empty = field absent"))))
    return fields


def field_errors(check: dict[str, Any] | None, column: FieldColumn) -> list[str]:
    """The row's schema errors at this field or inside it: "minLength: 'ab' is too short"."""
    if not check:
        return []
    pointer = "".join("/" + name.replace("~", "~0").replace("/", "~1") for name in column.path)
    return [f"{error['keyword']}: {error['message']}" for error in check["errors"]
            if error["pointer"] == pointer or error["pointer"].startswith(pointer + "/")]


def cell_of(row: dict[str, Any], column: FieldColumn) -> Any:
    """The value a grid cell or form input shows for the row's field (None: the field is absent)."""
    body = row.get("body") if isinstance(row.get("body"), dict) else {}
    return to_cell(column, _get(body, column.path))


def _walk(schema: dict[str, Any], path: tuple[str, ...], bodies: list[Any], out: list[FieldColumn]) -> None:
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    names = list(properties)
    for body in bodies:
        if isinstance(body, dict):
            names.extend(name for name in body if name not in names)
    required_names = set(schema.get("required") or [])
    for name in names:
        child_path = (*path, name)
        child_schema = properties.get(name) if isinstance(properties.get(name), dict) else {}
        values = [body.get(name, _ABSENT) if isinstance(body, dict) else _ABSENT for body in bodies]
        present = [v for v in values if v is not _ABSENT]
        is_object = child_schema.get("type") == "object" or (not child_schema and present and all(
            isinstance(v, dict) for v in present))
        if is_object and all(isinstance(v, dict) for v in present) and _has_fields(child_schema, present):
            _walk(child_schema, child_path, values, out)
            continue
        out.append(_leaf(child_path, child_schema, present, name in required_names))


def _has_fields(schema: dict[str, Any], present: list[dict[str, Any]]) -> bool:
    return bool(schema.get("properties")) or any(present)


_ABSENT = object()


def _leaf(path: tuple[str, ...], schema: dict[str, Any], present: list[Any], required: bool) -> FieldColumn:
    kind = _kind(schema, present)
    common: dict[str, Any] = {
        "key": column_key(path), "path": path, "kind": kind, "title": str(schema.get("title") or ""),
        "required": required,
    }
    if kind == "number":
        common.update(
            integer=schema.get("type") == "integer",
            minimum=_num(schema.get("minimum")), maximum=_num(schema.get("maximum")),
            exclusive_minimum=_num(schema.get("exclusiveMinimum")),
            exclusive_maximum=_num(schema.get("exclusiveMaximum")), multiple_of=_num(schema.get("multipleOf")),
        )
    elif kind == "enum":
        options = list(schema.get("enum") or [])
        options.extend(shown for shown in (_shown(v) for v in present) if shown not in options)
        common["options"] = tuple(options)
    elif kind == "list":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        options = list(items.get("enum") or [])
        for value in present:
            options.extend(v for v in value if v not in options)
        common["options"] = tuple(options)
    elif kind == "json":
        common["read_only"] = any(_holds_objects_in_arrays(v) for v in present) or _schema_objects_in_arrays(schema)
    column = FieldColumn(**common)
    return _replace(column, help=describe(column, schema))


def _kind(schema: dict[str, Any], present: list[Any]) -> str:
    """The column's kind: the schema's type where the grid has a cell for it, else from the values.

    Text and enum columns show an off-type value (a number in a string field) as JSON text
    and keep it unless the cell is edited; number, boolean and list cells cannot show one,
    so such a column falls back to JSON text.
    """
    type_ = schema.get("type")
    if schema.get("enum") and all(isinstance(v, str) for v in schema["enum"]):
        return "enum"
    if type_ == "integer":  # 12.5 in an integer field would show as 12 in an integer cell
        return "number" if all(_is_number(v) and float(v).is_integer() for v in present) else "json"
    if type_ == "number":
        return "number" if all(_is_number(v) for v in present) else "json"
    if type_ == "boolean":
        return "bool" if all(isinstance(v, bool) for v in present) else "json"
    if type_ == "string":
        return "text"
    if type_ == "array" and (schema.get("items") or {}).get("type") == "string":
        return "list" if all(isinstance(v, list) and all(isinstance(i, str) for i in v) for v in present) else "json"
    if not type_ and present:  # a field the schema does not know: judge by the values
        if all(isinstance(v, str) for v in present):
            return "text"
        if all(_is_number(v) for v in present):
            return "number"
        if all(isinstance(v, bool) for v in present):
            return "bool"
    return "json"


def describe(column: FieldColumn, schema: dict[str, Any], *, empty: str = N_("empty cell = field absent")) -> str:
    """The column's tooltip: title, type and constraints, e.g. "年龄 · integer · 18 ≤ x ≤ 120 · required"."""
    parts = [column.title] if column.title else []
    type_ = schema.get("type")
    if type_:
        parts.append(str(type_) if not schema.get("format") else f"{type_} ({schema['format']})")
    minimum, maximum = _num(schema.get("minimum")), _num(schema.get("maximum"))
    exclusive_minimum, exclusive_maximum = _num(schema.get("exclusiveMinimum")), _num(schema.get("exclusiveMaximum"))
    low = f"{_fmt(minimum)} ≤ " if minimum is not None else (
        f"{_fmt(exclusive_minimum)} < " if exclusive_minimum is not None else "")
    high = f" ≤ {_fmt(maximum)}" if maximum is not None else (
        f" < {_fmt(exclusive_maximum)}" if exclusive_maximum is not None else "")
    if low or high:
        parts.append(f"{low}x{high}")
    if _num(schema.get("multipleOf")) is not None:
        parts.append(_("multiple of {value}", value=_fmt(schema["multipleOf"])))
    for keyword, label in (("minLength", N_("min length {value}")), ("maxLength", N_("max length {value}")),
                           ("pattern", N_("pattern {value}")), ("minItems", N_("min items {value}")),
                           ("maxItems", N_("max items {value}"))):
        if keyword in schema:
            parts.append(_(label, value=schema[keyword]))
    if "enum" in schema:
        parts.append(_("one of {values}", values=", ".join(map(str, schema["enum"]))))
    if "const" in schema:
        parts.append(_("always {value}", value=json.dumps(schema["const"], ensure_ascii=False)))
    if column.required:
        parts.append(_("required"))
    if column.kind == "json":
        parts.append(_("JSON — edit in the raw-JSON editor") if column.read_only else "JSON")
    parts.append(_(empty))
    return " · ".join(parts)


def to_records(rows: list[dict[str, Any]], columns: list[FieldColumn]) -> list[dict[str, Any]]:
    """One flat record per row: the meta columns, then one cell per body column."""
    records = []
    for row in rows:
        record: dict[str, Any] = {
            "_name": row.get("name"), "_check": "", "_kind": row.get("kind"), "_keyword": row.get("keyword"),
            "_pointer": row.get("pointer"), "_expected_status": row.get("expected_status"),
            "_description": row.get("description"),
        }
        body = row.get("body") if isinstance(row.get("body"), dict) else {}
        for column in columns:
            record[column.key] = to_cell(column, _get(body, column.path))
        records.append(record)
    return records


def to_cell(column: FieldColumn, value: Any) -> Any:
    if value is _ABSENT:
        return None
    if column.kind == "json":
        return json.dumps(value, ensure_ascii=False)
    if column.kind in ("text", "enum"):
        return _shown(value)
    return value


def _shown(value: Any) -> str:
    """A string as it is; any other value as JSON (123, null, true) in a text cell."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def from_cell(column: FieldColumn, cell: Any, original: Any = None) -> Any:
    """The body value an edited cell stands for; _ABSENT for an empty cell.

    JSON cells are read as JSON when they parse and as plain text otherwise, so typing 30
    gives the number 30, "30" (quoted) the string, and abc the string "abc".
    """
    if _is_empty(cell):
        return _ABSENT
    if column.kind == "json":
        if not isinstance(cell, str):
            return cell
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            return cell
    if column.kind == "enum" and original is not _ABSENT and not isinstance(original, str) and cell == _shown(original):
        return original  # the row's own off-type value (a number in an enum field), left as it was
    if column.kind == "number":
        number = cell if _is_number(cell) else float(cell)
        if column.integer and isinstance(number, float) and number.is_integer():
            return int(number)
        return number
    if column.kind == "bool":
        return bool(cell)
    if column.kind == "list":
        return list(cell) if not isinstance(cell, str) else json.loads(cell)
    return str(cell)


@dataclass
class AppliedEdits:
    """Rows after a reviewer's cell edits, and the cells that could not be read."""

    rows: list[dict[str, Any]]
    errors: dict[str, list[str]]  # row name -> problems with its cells
    edited: set[str]  # names of rows with at least one edited cell


def apply_edits(rows: list[dict[str, Any]], columns: list[FieldColumn],
                edited_rows: dict[Any, dict[str, Any]]) -> AppliedEdits:
    """Applies a data editor's ``edited_rows`` ({row index: {column: value}}) to copies of ``rows``."""
    by_key = {column.key: column for column in columns}
    result = [copy.deepcopy(row) for row in rows]
    errors: dict[str, list[str]] = {}
    edited: set[str] = set()
    for index, changes in (edited_rows or {}).items():
        position = int(index)
        if not 0 <= position < len(result) or not changes:
            continue
        row = result[position]
        original_name = str(row.get("name"))
        for key, cell in changes.items():
            try:
                _apply_cell(row, key, cell, by_key)
            except (ValueError, TypeError) as error:
                errors.setdefault(original_name, []).append(str(error))
        edited.add(str(row.get("name")))
    return AppliedEdits(rows=result, errors=errors, edited=edited)


def _apply_cell(row: dict[str, Any], key: str, cell: Any, by_key: dict[str, FieldColumn]) -> None:
    if key in META_COLUMNS:
        _apply_meta_cell(row, key, cell)
    elif key in by_key:
        column = by_key[key]
        value = from_cell(column, cell, _get(row.get("body") or {}, column.path))
        body = row.setdefault("body", {})
        if value is _ABSENT:
            _delete(body, column.path)
        else:
            _set(body, column.path, value)


def _apply_meta_cell(row: dict[str, Any], key: str, cell: Any) -> None:
    if key == "_name":
        if _is_empty(cell) or not str(cell).strip():
            raise ValueError("the row needs a name")
        row["name"] = str(cell).strip()
    elif key == "_kind":
        if cell not in ROW_KINDS:
            raise ValueError(f"kind must be one of {', '.join(ROW_KINDS)}")
        row["kind"] = cell
    elif key == "_keyword":
        row["keyword"] = None if _is_empty(cell) or not str(cell).strip() else str(cell).strip()
    elif key == "_pointer":
        row["pointer"] = "" if _is_empty(cell) else str(cell).strip()
    elif key == "_description":
        row["description"] = "" if _is_empty(cell) else str(cell)
    elif key == "_expected_status":
        if _is_empty(cell):
            raise ValueError("the expected status is required")
        status = int(float(cell))
        if not 100 <= status <= 599:
            raise ValueError("the expected status must be an HTTP status code (100-599)")
        row["expected_status"] = status


def row_objects(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as the service takes them back (row objects with a name and a body)."""
    return [{name: row.get(name) for name in ROW_FIELDS if name in row} for row in rows]


def check_text(result: dict[str, Any] | None, cell_errors: list[str] | None = None) -> str:
    """What the grid's check column says about one row's validation."""
    if cell_errors:
        return "✗ " + "; ".join(cell_errors)
    if result is None:
        return ""
    if not result["matches_intent"]:
        return "✗ " + (i18n.text(result["problem"]) if result.get("problem") else _("does not do what the row intends"))
    if result["valid"]:
        return _("✓ valid")
    first = result["errors"][0]
    more = f" (+{len(result['errors']) - 1})" if len(result["errors"]) > 1 else ""
    return _("✓ rejected: {keyword} at {pointer}", keyword=first["keyword"], pointer=first["pointer"] or "/") + more


def column_key(path: tuple[str, ...]) -> str:
    key = ".".join(path)
    return f"body.{key}" if key.startswith("_") or key == "" else key


def _get(body: Any, path: tuple[str, ...]) -> Any:
    current = body
    for name in path:
        if not isinstance(current, dict) or name not in current:
            return _ABSENT
        current = current[name]
    return current


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    current = body
    for name in path[:-1]:
        if not isinstance(current.get(name), dict):
            current[name] = {}
        current = current[name]
    current[path[-1]] = value


def _delete(body: dict[str, Any], path: tuple[str, ...]) -> None:
    current: Any = body
    for name in path[:-1]:
        if not isinstance(current, dict) or name not in current:
            return
        current = current[name]
    if isinstance(current, dict):
        current.pop(path[-1], None)


def _is_empty(cell: Any) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    return cell is pd.NA or cell is pd.NaT


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num(value: Any) -> float | None:
    return value if _is_number(value) else None


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _holds_objects_in_arrays(value: Any) -> bool:
    if isinstance(value, list):
        return any(isinstance(item, (dict, list)) for item in value) or any(
            _holds_objects_in_arrays(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_objects_in_arrays(item) for item in value.values())
    return False


def _schema_objects_in_arrays(schema: dict[str, Any]) -> bool:
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    return schema.get("type") == "array" and items.get("type") in ("object", "array")


def _replace(column: FieldColumn, **changes: Any) -> FieldColumn:
    return replace(column, **changes)
