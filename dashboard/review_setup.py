"""The review's setup panel: the requests sent before each row (what its path names, created first), editable."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from core import service
from core.service import CaseFlowError
from dashboard import i18n, ui
from dashboard.i18n import _, _n


def setup_key(task_id: int, round_: int) -> str:
    return f"review_setup_{task_id}_{round_}"


def panel(task: dict[str, Any], *, read_only: bool) -> list[dict[str, Any]] | None:
    """Shows the task's setup steps; returns the reviewer's corrected steps, or None to keep the generated ones."""
    data = task["interrupt_data"]
    steps: list[dict[str, Any]] = data.get("setup") or []
    key = setup_key(task["id"], data["round"])
    corrected = st.session_state.get(key)
    shown = corrected if corrected is not None else steps
    if not shown and read_only:
        return None
    if not shown:
        label = _("Setup before each row: none")
    elif corrected is not None:
        label = _n("Setup before each row: {count} request (edited)",
                   "Setup before each row: {count} requests (edited)", len(shown), count=len(shown))
    else:
        label = _n("Setup before each row: {count} request", "Setup before each row: {count} requests", len(shown),
                   count=len(shown))
    with st.expander(label, icon=":material/account_tree:", expanded=any(step.get("repairs") for step in shown)):
        if shown:
            st.caption(_("Each row's path (or body) names resources that must exist: these requests create (or find) "
                         "them first, capture their ids into variables the row uses, and delete them after the row."))
            st.dataframe(pd.DataFrame({
                "step": [step["name"] for step in shown],
                "request": [f"{step['method']} {step['path']}" for step in shown],
                "captures": [", ".join(f"{{{{{name}}}}} ← {' | '.join(paths)}"
                                       for name, paths in step["captures"].items()) for step in shown],
                "deleted after": [step.get("cleanup") or _("kept") for step in shown],
                "repaired": ["; ".join(i18n.text(repair) for repair in step.get("repairs", [])) for step in shown],
            }), hide_index=True, column_config={
                "step": _("Step"), "request": _("Request"), "captures": _("Captures"),
                "deleted after": _("Deleted after"), "repaired": _("Repaired")})
        if not read_only:
            _editor(key, shown)
    return corrected


def _editor(key: str, shown: list[dict[str, Any]]) -> None:
    text = st.text_area(_("Steps as JSON"), value=json.dumps(shown, ensure_ascii=False, indent=1), height=220,
                        key=f"{key}_text", help=_("name, method, path, query, body, media_type, captures "
                                                  "(variable → dotted paths into the answer), cleanup"))
    left, right = st.columns(2)
    if left.button(_("Use these steps"), key=f"{key}_apply", icon=":material/check:"):
        try:
            st.session_state[key] = service.check_setup(json.loads(text))
        except ValueError as error:
            st.error(_("Not JSON: {error}", error=ui.escape(str(error))), icon=":material/error:")
        except CaseFlowError as error:
            st.error(ui.escape(i18n.text(error.message)), icon=":material/error:")
        else:
            st.rerun()
    if st.session_state.get(key) is not None and right.button(_("Back to the generated steps"), key=f"{key}_reset"):
        st.session_state.pop(key, None)
        st.session_state.pop(f"{key}_text", None)
        st.rerun()
