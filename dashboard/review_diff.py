"""What the reviewer changed: their rows against the generated ones, row by row and field by field.

Rows are matched by name: a renamed row reads as one removed and one added. Within a row,
the body is compared leaf by leaf (JSON pointers; an array is one value), and so are the
row's own fields (kind, expected status, keyword, pointer, description).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.i18n import _, _n

META = ("kind", "expected_status", "keyword", "pointer", "description")
ABSENT = object()


@dataclass(frozen=True)
class FieldChange:
    where: str  # "/username", "/address/city", or a row field: "kind"
    before: Any  # ABSENT when the field was not there
    after: Any


@dataclass(frozen=True)
class Changes:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[FieldChange]] = field(default_factory=dict)  # row name -> its changed fields

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff(generated: list[dict[str, Any]], rows: list[dict[str, Any]]) -> Changes:
    """The reviewer's ``rows`` against the ``generated`` ones."""
    before = {str(row.get("name")): row for row in generated}
    after = {str(row.get("name")): row for row in rows}
    changed = {}
    for name, row in after.items():
        if name in before and (fields := row_changes(before[name], row)):
            changed[name] = fields
    return Changes(added=[name for name in after if name not in before],
                   removed=[name for name in before if name not in after], changed=changed)


def row_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Every field of the row that differs, the row's own fields first."""
    found = [FieldChange(key, old.get(key, ABSENT), new.get(key, ABSENT)) for key in META
             if old.get(key, ABSENT) != new.get(key, ABSENT)]
    left, right = leaves(old.get("body")), leaves(new.get("body"))
    for where in dict.fromkeys([*left, *right]):
        if left.get(where, ABSENT) != right.get(where, ABSENT):
            found.append(FieldChange(where, left.get(where, ABSENT), right.get(where, ABSENT)))
    return found


def leaves(value: Any, where: str = "") -> dict[str, Any]:
    """A body as {JSON pointer: value} down to the leaves; an empty object is a leaf of its own."""
    if not isinstance(value, dict) or (not value and where):
        return {where or "/": value}
    found: dict[str, Any] = {}
    for name, item in value.items():
        found.update(leaves(item, f"{where}/{str(name).replace('~', '~0').replace('/', '~1')}"))
    return found


def shown(value: Any) -> str:
    return "—" if value is ABSENT else json.dumps(value, ensure_ascii=False)[:300]


def summary(changes: Changes) -> str:
    """"2 rows changed · 1 added · 3 removed", or that nothing changed."""
    if changes.empty:
        return _("No changes: the rows are as generated.")
    parts = []
    if changes.changed:
        parts.append(_n("{count} row changed", "{count} rows changed", len(changes.changed),
                        count=len(changes.changed)))
    if changes.added:
        parts.append(_n("{count} row added", "{count} rows added", len(changes.added), count=len(changes.added)))
    if changes.removed:
        parts.append(_n("{count} row removed", "{count} rows removed", len(changes.removed),
                        count=len(changes.removed)))
    return " · ".join(parts)


def table(changes: Changes, key: str) -> None:
    """The changes as a table: one line per changed field, added row and removed row."""
    st.caption(summary(changes))
    if changes.empty:
        return
    lines = [(name, _("changed"), item.where, shown(item.before), shown(item.after))
             for name, fields in changes.changed.items() for item in fields]
    lines += [(name, _("added"), "", "", "") for name in changes.added]
    lines += [(name, _("removed"), "", "", "") for name in changes.removed]
    st.dataframe(pd.DataFrame(lines, columns=["row", "change", "field", "before", "after"]), hide_index=True,
                 key=key, height=min(36 * (len(lines) + 1) + 3, 320), column_config={
                     "row": _("Row"), "change": _("Change"), "field": _("Field"), "before": _("Before"),
                     "after": _("After")})
