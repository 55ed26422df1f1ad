"""The review editor: generated rows in a data grid (one row per data row, one column per body field),
re-validated on every edit, with a raw-JSON editor for what a cell cannot hold. Not a page itself.

The reviewer's working copy (the "draft") lives in session state per task and round. Cell
edits stay in the grid's own state (its key names the draft's version) until the draft
changes shape (rows added or removed, JSON applied); then they are folded into the draft
and the grid starts afresh under a new version.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from core import service
from core.service import CaseFlowError
from dashboard import i18n, review_form, review_grid, ui
from dashboard.i18n import _
from dashboard.review_grid import AppliedEdits, FieldColumn

MAX_GRID_HEIGHT = 620
ROW_HEIGHT = 35


@dataclass
class EditorResult:
    """What the reviewer has now: the rows, the cells that could not be read, and their validation."""

    rows: list[dict[str, Any]]
    cell_errors: dict[str, list[str]]
    validation: dict[str, Any] | None
    changed: bool


def draft_key(task_id: int, round_: int) -> str:
    return f"review_draft_{task_id}_{round_}"


def draft(task_id: int, round_: int, generated: list[dict[str, Any]]) -> dict[str, Any]:
    key = draft_key(task_id, round_)
    if key not in st.session_state:
        st.session_state[key] = {"rows": copy.deepcopy(generated), "version": 0}
    return st.session_state[key]


def grid_key(task_id: int, round_: int, version: int) -> str:
    return f"review_grid_{task_id}_{round_}_{version}"


def replace_rows(state: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """New draft rows: the grid restarts under a new key, its folded edits gone from its state."""
    state["rows"] = rows
    state["version"] += 1


def apply_rows(state: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """The rows the form view made: the new draft, shown at once in the grid and the form."""
    replace_rows(state, rows)
    st.rerun()


def current(task: dict[str, Any], state: dict[str, Any], columns: list[FieldColumn]) -> AppliedEdits:
    edits = st.session_state.get(grid_key(task["id"], task["interrupt_data"]["round"], state["version"])) or {}
    return review_grid.apply_edits(state["rows"], columns, edits.get("edited_rows", {}))


def editor(task: dict[str, Any], scene: dict[str, Any], *, read_only: bool) -> EditorResult:
    """Renders the editor and returns the reviewer's rows as they are now."""
    data = task["interrupt_data"]
    round_, generated = data["round"], data["generated_body"]
    state = draft(task["id"], round_, generated)
    schema = scene["request_schema"] or {}
    columns = review_grid.columns_for(schema, state["rows"])
    mode = "Grid"
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        if not read_only:
            mode = st.segmented_control(
                _("Editor"), ["Grid", "Raw JSON"], default="Grid", key="review_mode", label_visibility="collapsed",
                required=True, format_func=lambda name: _("Grid") if name == "Grid" else _("Raw JSON")) or "Grid"
        form_view = mode == "Grid" and st.toggle(_("Form view"), value=True, key="review_form_view",
                                                 help=_("One row at a time, one input per body field, beside the grid"))
    if mode == "Raw JSON":
        applied = current(task, state, columns)
        if applied.edited:  # the grid is about to disappear: keep what was typed in it
            replace_rows(state, applied.rows)
        json_editor(task, state, generated)
        applied = AppliedEdits(rows=state["rows"], errors={}, edited=set())
    else:
        applied = current(task, state, columns)
    ok, validation = ui.attempt(lambda: service.check_review_rows(task["scene_id"], applied.rows,
                                                                      task["interrupt_data"].get("setup")))
    checks = validation["rows"] if ok and validation else [None] * len(applied.rows)
    if mode == "Grid":
        toolbar(state, applied, generated, read_only)
        if form_view:
            left, right = st.columns([3, 2], gap="medium")
            with left:
                grid(task, state, columns, checks, applied, read_only)
            with right, st.container(border=True, key="review_form_panel"):
                review_form.panel(task, applied.rows, checks, applied.errors, schema, read_only=read_only,
                                  apply=functools.partial(apply_rows, state))
        else:
            grid(task, state, columns, checks, applied, read_only)
    problems(applied, checks)
    return EditorResult(rows=applied.rows, cell_errors=applied.errors, validation=validation,
                        changed=applied.rows != generated)


def grid(task: dict[str, Any], state: dict[str, Any], columns: list[FieldColumn], checks: list[Any],
         applied: AppliedEdits, read_only: bool) -> None:
    records = review_grid.to_records(state["rows"], columns)
    for record, check in zip(records, checks, strict=True):  # the records keep the draft's values, the edits
        record["_check"] = review_grid.check_text(check, applied.errors.get(str(record["_name"])))  # ride on top
    frame = _typed_frame(records, columns)
    order = ["_name", "_check", "_kind", "_keyword", "_pointer", "_expected_status",
             *(c.key for c in columns), "_description"]
    disabled: list[str] | bool = True if read_only else ["_check", *(c.key for c in columns if c.read_only)]
    st.data_editor(
        _styled(frame), key=grid_key(task["id"], task["interrupt_data"]["round"], state["version"]), hide_index=True,
        num_rows="fixed", column_order=order, disabled=disabled, column_config=_column_config(columns),
        height=min(ROW_HEIGHT * (len(frame) + 1) + 3, MAX_GRID_HEIGHT), row_height=ROW_HEIGHT,
        placeholder="", alt=_("Generated data rows"),
    )


def _typed_frame(records: list[dict[str, Any]], columns: list[FieldColumn]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    frame["_expected_status"] = pd.array(frame["_expected_status"], dtype="Int64")
    for column in columns:
        if column.kind == "number":
            frame[column.key] = pd.array(frame[column.key], dtype="Int64" if _all_int(frame[column.key]) else "Float64")
        elif column.kind == "bool":
            frame[column.key] = pd.array(frame[column.key], dtype="boolean")
        elif column.kind in ("text", "enum", "json"):
            frame[column.key] = frame[column.key].astype(object)
    return frame


CHECK_STYLE = {"✗": "color: #b4232c; background-color: #fdecec", "✓": "color: #1e7d4a"}


def _styled(frame: pd.DataFrame) -> Any:
    """Colours the check column (red when a row misses its intent); numbers keep their plain form."""
    styler = frame.style.map(lambda v: CHECK_STYLE.get(str(v)[:1], ""), subset=["_check"])
    floats = [c for c in frame.columns if str(frame[c].dtype) == "Float64"]
    return styler.format(lambda v: "" if pd.isna(v) else repr(float(v)).removesuffix(".0"), subset=floats,
                         na_rep="") if floats else styler


def _all_int(series: pd.Series) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in series if v is not None and not pd.isna(v))


def _label(column: FieldColumn) -> str:
    return f"{column.key} *" if column.required else column.key


def _column_config(columns: list[FieldColumn]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "_name": st.column_config.TextColumn(_("Row"), pinned=True, required=True, width=210,
                                             help=_("The row's unique name")),
        "_check": st.column_config.TextColumn(_("Check"), pinned=True, width=280,
                                              help=_("The row re-validated against the scene's schema after your "
                                                     "edits: ✓ it does what its kind says, ✗ it does not")),
        "_kind": st.column_config.SelectboxColumn(_("Kind"), options=list(review_grid.ROW_KINDS), required=True,
                                                  width=90, help=_("valid: accepted; boundary: accepted at a limit; "
                                                                   "invalid: breaks exactly one constraint")),
        "_keyword": st.column_config.TextColumn(_("Keyword"), width=100,
                                                help=_("The JSON Schema keyword an invalid or boundary row targets")),
        "_pointer": st.column_config.TextColumn(_("Field"), width=120, help=_("JSON pointer of the targeted field")),
        "_expected_status": st.column_config.NumberColumn(_("Expected"), min_value=100, max_value=599, step=1,
                                                          format="%d", required=True, width=80,
                                                          help=_("The HTTP status the API should answer")),
        "_description": st.column_config.TextColumn(_("Description"), width=300),
    }
    for column in columns:
        label = _label(column)
        if column.kind == "number":
            step = 1 if column.integer else column.multiple_of
            config[column.key] = st.column_config.NumberColumn(
                label + _bounds(column), help=column.help, step=step, format="%d" if column.integer else None)
        elif column.kind == "bool":
            config[column.key] = st.column_config.CheckboxColumn(label, help=column.help)
        elif column.kind == "enum":
            config[column.key] = st.column_config.SelectboxColumn(label, options=list(column.options),
                                                                  help=column.help)
        elif column.kind == "list":
            config[column.key] = st.column_config.MultiselectColumn(label, options=list(column.options),
                                                                    accept_new_options=True, help=column.help)
        else:
            config[column.key] = st.column_config.TextColumn(label, help=column.help, disabled=column.read_only or None)
    return config


def _bounds(column: FieldColumn) -> str:
    low = column.minimum if column.minimum is not None else column.exclusive_minimum
    high = column.maximum if column.maximum is not None else column.exclusive_maximum
    if low is None and high is None:
        return ""
    return f" [{_number(low)}…{_number(high)}]"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def toolbar(state: dict[str, Any], applied: AppliedEdits, generated: list[dict[str, Any]], read_only: bool) -> None:
    if read_only:
        return
    names = [str(row["name"]) for row in applied.rows]
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        with st.popover(_("Add row"), icon=":material/add:"):
            with st.form("review_add_row", border=False):
                name = st.text_input(_("Name"), placeholder=_("e.g. age_below_minimum"))
                kind = st.selectbox(_("Kind"), review_grid.ROW_KINDS)
                source = st.selectbox(_("Copy the body of"), names)
                if st.form_submit_button(_("Add"), type="primary"):
                    add_row(state, applied, generated, {"name": name, "kind": kind, "source": source})
        with st.popover(_("Remove rows"), icon=":material/delete:"):
            doomed = st.multiselect(_("Rows to remove"), names, key="review_remove_pick")
            if st.button(_("Remove"), disabled=not doomed or len(doomed) == len(names), key="review_remove"):
                replace_rows(state, [row for row in applied.rows if str(row["name"]) not in doomed])
                st.rerun()
        by_kind(state, applied.rows)
        if st.button(_("Discard my changes"), icon=":material/undo:", type="tertiary", key="review_reset"):
            st.session_state["review_reset_requested"] = True
            st.rerun()


def by_kind(state: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Accept (keep only) or remove every row of the chosen kinds in one action."""
    counts = {kind: sum(1 for row in rows if row.get("kind") == kind) for kind in review_grid.ROW_KINDS}
    with st.popover(_("By kind"), icon=":material/category:"):
        kinds = st.pills(_("Kinds"), [kind for kind in review_grid.ROW_KINDS if counts[kind]], selection_mode="multi",
                         key="review_kind_pick", format_func=lambda kind: f"{kind} · {counts[kind]}")
        chosen = [row for row in rows if row.get("kind") in kinds]
        every = bool(chosen) and len(chosen) == len(rows)
        with st.container(horizontal=True, gap="small"):
            if st.button(_("Keep only these"), icon=":material/done_all:", key="review_kind_keep",
                         disabled=not chosen or every):
                replace_rows(state, chosen)
                st.rerun()
            if st.button(_("Remove these"), icon=":material/delete_sweep:", key="review_kind_remove",
                         disabled=not chosen or every):
                replace_rows(state, [row for row in rows if row.get("kind") not in kinds])
                st.rerun()
        if every:
            st.caption(_("At least one row must stay."))


def add_row(state: dict[str, Any], applied: AppliedEdits, generated: list[dict[str, Any]],
            new: dict[str, str]) -> None:
    """Appends a row named ``new["name"]`` of ``new["kind"]`` with a copy of the body of ``new["source"]``."""
    name = new["name"].strip()
    if not name or name in {str(row["name"]) for row in applied.rows}:
        st.error(_("Give the new row a unique name."))
        return
    template = next(row for row in applied.rows if str(row["name"]) == new["source"])
    added = {"name": name, "kind": new["kind"], "expected_status": template["expected_status"],
             "body": copy.deepcopy(template["body"])}
    ok, rows = ui.attempt(lambda: service.corrected_rows(generated, [*review_grid.row_objects(applied.rows), added]))
    if ok and rows is not None:
        replace_rows(state, rows)
        st.rerun()


def json_editor(task: dict[str, Any], state: dict[str, Any], generated: list[dict[str, Any]]) -> None:
    st.caption(_("Every row as JSON: edit values a cell cannot hold (arrays of objects), or rows in bulk. "
                 "Each row needs a unique name and a body object."))
    key = f"review_json_{task['id']}_{task['interrupt_data']['round']}_{state['version']}"
    text = st.text_area(_("Rows (JSON)"), json.dumps(review_grid.row_objects(state["rows"]), ensure_ascii=False,
                                                   indent=2), height=460, key=key, label_visibility="collapsed")
    if st.button(_("Apply JSON"), icon=":material/data_object:", key="review_json_apply"):
        rows, error = parse_rows(text, generated)
        if error:
            st.error(ui.escape(error), icon=":material/error:")
        else:
            replace_rows(state, rows)
            st.rerun()


def parse_rows(text: str, generated: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """The rows in ``text``, completed from the generated rows as the review will complete them; or an error.

    The JSON and its shape (row objects, each with a name and a body) are checked here; what
    a row needs besides, and that names are unique, is service.corrected_rows's rule.
    """
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        return [], _("Not valid JSON: {error} at line {line}, column {column}.", error=error.msg, line=error.lineno,
                     column=error.colno)
    if not isinstance(items, list) or not items:
        return [], _("Expected a non-empty JSON array of rows.")
    for index, item in enumerate(items, start=1):
        if not _is_row_object(item):
            return [], _('Row {index} needs a "name" and a "body" object.', index=index)
    try:
        return service.corrected_rows(generated, items), None
    except CaseFlowError as error:
        return [], i18n.text(error.message)


def _is_row_object(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("body"), dict) and bool(str(item.get("name", "")).strip())


def problems(applied: AppliedEdits, checks: list[Any]) -> None:
    bad = [(row, check) for row, check in zip(applied.rows, checks, strict=True)
           if applied.errors.get(str(row["name"])) or (check is not None and not check["matches_intent"])]
    edited = len(applied.edited)
    summary = _("{count} rows", count=len(applied.rows))
    if edited:
        summary += " · " + _("{count} edited", count=edited)
    summary += " · " + (_("{count} not doing what they intend", count=len(bad)) if bad
                        else _("every row does what it intends"))
    st.caption(summary)
    if bad:
        with st.expander(_("Rows to look at ({count})", count=len(bad)), icon=":material/warning:",
                         expanded=len(bad) <= 3):
            for row, check in bad:
                reasons = applied.errors.get(str(row["name"])) or [i18n.text(check["problem"])] + [
                    f"{e['keyword']} at {e['pointer'] or '/'}: {e['message']}" for e in check["errors"]]
                st.markdown(f"**{ui.escape(row['name'])}** ({ui.escape(row['kind'])})  \n"
                            + "  \n".join(f"- {ui.escape(reason)}" for reason in reasons))
