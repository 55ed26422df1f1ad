"""The traceability panel (review, automation case): each row's step and each check's expected-result clause."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui
from dashboard.i18n import _, _n


def panel(test_case_id: int | None, method: str, path: str, rows: list[dict[str, Any]]) -> None:
    """Shows where the rows (with their checks) come from in the test case; flags the expected-result clauses
    that no check verifies."""
    ok, found = ui.attempt(lambda: service.trace_rows(test_case_id, method, path, rows))
    if not ok or found is None or not found["rows"]:
        return
    untraced, document = found["untraced"], _("the document")
    label = (_n("Traceability: {count} expected result without a check", "Traceability: {count} expected results "
                "without a check", len(untraced), count=len(untraced)) if untraced
             else _("Traceability: every expected result has a check"))
    with st.expander(label, icon=":material/warning:" if untraced else ":material/link:", expanded=bool(untraced)):
        for clause in untraced:
            st.warning(_("No check verifies: {clause}", clause=ui.escape(clause)), icon=":material/link_off:")
        st.dataframe(pd.DataFrame({
            "row": [item["name"] for item in found["rows"]],
            "step": [item["step"] or "" for item in found["rows"]],
            "checks": ["; ".join(f"{check['check']} ← {check['clause'].strip()}" if check["clause"]
                                 else f"{check['check']} ← {document}" for check in item["checks"])
                       for item in found["rows"]],
        }), hide_index=True, column_config={"row": _("Row"), "step": _("Step"), "checks": _("Checks and their source")})
