"""The review's form view: one row at a time, one input per body field, next to the grid. Not a page itself.

Each input is the field's type (numbers, a true/false choice, the schema's values, tags, text;
nested objects as JSON text) with its constraints and the row's schema errors at that field
beneath it. The form edits the same draft as the grid: it starts from the row as the grid
has it now (cell edits included) and applying it folds the grid's edits and the form's into
the draft (review_editor.replace_rows), so the grid shows them at once and vice versa.
Only the inputs the reviewer changed are applied; the rest stays exactly as it was.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard import review_grid, ui
from dashboard.i18n import _
from dashboard.review_grid import FieldColumn

NONE_SHOWN = "—"


def panel(task: dict[str, Any], rows: list[dict[str, Any]], checks: list[Any], cell_errors: dict[str, list[str]],
          schema: dict[str, Any], *, read_only: bool, apply: Callable[[list[dict[str, Any]]], None]) -> None:
    """The form for the row the reviewer picks; ``apply`` receives every row after the form's changes."""
    prefix = f"review_form_{task['id']}_{task['interrupt_data']['round']}"
    index = st.selectbox(_("Row"), range(len(rows)), key=f"{prefix}_row",
                         format_func=lambda i: f"{rows[i]['name']} · {rows[i]['kind']}")
    if index is None or index >= len(rows):
        return
    row, check = rows[index], checks[index]
    verdict = review_grid.check_text(check, cell_errors.get(str(row["name"])))
    (st.error if verdict.startswith("✗") else st.success)(ui.escape(verdict))
    fields = review_grid.form_fields(schema, rows)
    key = f"{prefix}_{_digest(row)}"  # the inputs start afresh whenever the row changes (in the grid too)
    with st.form(key, border=False, enter_to_submit=False):
        changes = {}
        expected = st.number_input(_("Expected status"), value=row.get("expected_status"), min_value=100,
                                   max_value=599, step=1, key=f"{key}__expected", disabled=read_only)
        if expected != row.get("expected_status"):
            changes["_expected_status"] = expected
        for column in fields:
            shown = review_grid.cell_of(row, column)
            value = _input(column, shown, f"{key}_{column.key}", read_only)
            _beside(column, check)
            if _normal(value) != _normal(shown):
                changes[column.key] = _normal(value)
        applied = st.form_submit_button(_("Apply to the row"), type="primary", icon=":material/edit_note:",
                                        disabled=read_only)
    if applied and changes:
        edited = review_grid.apply_edits([row], [*fields], {0: changes})
        if problems := edited.errors.get(str(row["name"])):
            st.error(ui.escape("; ".join(problems)), icon=":material/error:")
            return
        new_rows = copy.deepcopy(rows)
        new_rows[index] = edited.rows[0]
        apply(new_rows)


def _input(column: FieldColumn, shown: Any, key: str, read_only: bool) -> Any:
    """The input for one field, holding what the row has there (None: absent)."""
    label = f"{column.key} *" if column.required else column.key
    common: dict[str, Any] = {"key": key, "disabled": read_only}
    if column.kind == "number":  # one numeric type throughout: Streamlit refuses an int value with a float step
        if column.integer:
            return st.number_input(label, value=None if shown is None else int(shown), step=1, **common)
        return st.number_input(label, value=None if shown is None else float(shown),
                               step=float(column.multiple_of) if column.multiple_of else None, format="%g", **common)
    if column.kind in ("bool", "enum"):
        options = [None, True, False] if column.kind == "bool" else [None, *column.options]
        if shown not in options:
            options.append(shown)
        return st.selectbox(label, options, index=options.index(shown), format_func=_option,
                            accept_new_options=column.kind == "enum", **common)
    if column.kind == "list":
        return st.multiselect(label, list(dict.fromkeys([*column.options, *(shown or [])])), default=shown or [],
                              accept_new_options=True, **common)
    if column.kind == "json":
        return st.text_area(label, value=shown or "", height=90, **common)
    return st.text_input(label, value=shown or "", **common)


def _beside(column: FieldColumn, check: dict[str, Any] | None) -> None:
    """The field's constraints and, when the row breaks the schema there, how."""
    errors = review_grid.field_errors(check, column)
    st.caption(ui.escape(column.help) + "".join(f"  \n:red[✗ {ui.escape(error)}]" for error in errors))


def _option(value: Any) -> str:
    if value is None:
        return NONE_SHOWN
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _normal(value: Any) -> Any:
    """Empty input, empty selection and absent field alike."""
    return None if value in ("", []) or value is None else value


def _digest(row: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:12]
