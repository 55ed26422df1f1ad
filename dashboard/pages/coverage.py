"""Coverage: a module's operations × documented statuses × constraint keywords, and tasks for the gaps."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui
from dashboard.i18n import _, _n

actor = ui.require_actor()


def cell_text(cell: dict[str, int] | None) -> str:
    """A cell as the map shows it: "" where nothing applies, "—" for a gap, else rows with their last run."""
    if cell is None:
        return ""
    if not cell["rows"]:
        return "—"
    text = f"{cell['rows']}"
    if cell["passed"]:
        text += f" ✓{cell['passed']}"
    if cell["failed"]:
        text += f" ✗{cell['failed']}"
    return text


def table(found: dict[str, Any]) -> pd.DataFrame:
    """One line per operation, a column per status code and per keyword of the module."""
    lines = []
    for item in found["operations"]:
        line = {"operation": f"{item['method']} {item['path']}", "scene": item["scene_id"], "cases": item["cases"]}
        line.update({code: cell_text(item["statuses"].get(code)) for code in found["statuses"]})
        line.update({keyword: cell_text(item["keywords"].get(keyword)) for keyword in found["keywords"]})
        lines.append(line)
    return pd.DataFrame(lines)


def summary(found: dict[str, Any]) -> None:
    gaps = sum(1 for item in found["operations"] if item["gaps"])
    first, second, third, fourth = st.columns(4)
    first.metric(_("Operations"), len(found["operations"]))
    second.metric(_("Cells covered"), f"{found['covered']} / {found['cells']}")
    third.metric(_("Cells failing"), found["failing"])
    fourth.metric(_("Operations with gaps"), gaps)


def launch(module: str, found: dict[str, Any]) -> None:
    gapped = sum(1 for item in found["operations"] if item["gaps"])
    if not gapped or not actor.can_operate:
        return
    label = _n("Launch a task for the {count} operation with gaps", "Launch tasks for the {count} operations with "
               "gaps", gapped, count=gapped)
    if st.button(label, icon=":material/rocket_launch:", key="coverage_launch"):
        ok, result = ui.attempt(lambda: service.launch_for_gaps(module, user=actor.username))
        if ok and result is not None:
            st.success(_n("Started {count} task; watch it on Tasks.", "Started {count} tasks; watch them on Tasks.",
                          len(result["started"]), count=len(result["started"])), icon=":material/check_circle:")
            if result["written"]:
                st.caption(_n("{count} operation had no test case: one was written for it (Cover …).",
                              "{count} operations had no test case: one was written for each (Cover …).",
                              len(result["written"]), count=len(result["written"])))
            if result["remaining"]:
                st.caption(_("{count} more operations with gaps: launch again once these are reviewed.",
                             count=result["remaining"]))


st.title(_("Coverage"))
st.caption(_("Each cell counts the approved rows that expect a documented status or aim at a constraint keyword, "
             "✓ passed and ✗ failed in their case's last run; — is a gap, an empty cell does not apply."))
modules = service.list_modules("scenes")
if not modules:
    ui.empty_state(_("No scenes yet. Import an OpenAPI document: its operations are the map's lines."),
                   icon=":material/api:")
    if actor.can_operate:
        st.page_link(ui.page_file("imports"), label=_("Import an OpenAPI document"), icon=":material/upload_file:")
    st.stop()
module = st.selectbox(_("Module"), modules, key="coverage_module")
ok, found = ui.attempt(lambda: service.coverage_map(module))
if ok and found is not None:
    summary(found)
    launch(module, found)
    columns = {"operation": st.column_config.TextColumn(_("Operation"), pinned=True),
               "scene": _("Scene"), "cases": _("Cases")}
    st.dataframe(table(found), hide_index=True, column_config=columns)
