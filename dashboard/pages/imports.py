"""Import: OpenAPI documents become scenes; CSV and XLSX files become manual test cases."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core import service
from dashboard import i18n, ui
from dashboard.i18n import _

TEMPLATE = "title,module,preconditions,steps,expected result,priority,scene\n"

actor = ui.require_actor()


def plan_summary(plan: dict[str, Any]) -> None:
    """What importing the document would change, scene by scene."""
    st.subheader(f"{ui.escape(plan['document'])} (OpenAPI {ui.escape(plan['version'])})")
    added, changed, removed, same = st.columns(4)
    added.metric(_("New scenes"), len(plan["added"]))
    changed.metric(_("Changed"), len(plan["changed"]))
    removed.metric(_("Removed"), len(plan["removed"]))
    same.metric(_("Unchanged"), plan["unchanged"])
    for label, ids in ((_("New"), plan["added"]), (_("Changed"), plan["changed"]), (_("Removed"), plan["removed"])):
        if ids:
            st.markdown(f"**{label}:** " + ui.escape(", ".join(ids)))
    if plan["unlinked_test_cases"]:
        st.warning(_("{count} test case(s) link to removed scenes and will be unlinked.",
                     count=plan["unlinked_test_cases"]))


def impact_table(impact: list[dict[str, Any]]) -> None:
    """The automation cases and rows the new version breaks, each with why."""
    if not impact:
        return
    rows = sum(len(case["rows"]) for case in impact)
    st.warning(_("This version breaks {cases} automation case(s), {rows} row(s) named below. After the import, "
                 "they can be regenerated from their test cases.", cases=len(impact), rows=rows))
    st.dataframe(pd.DataFrame(
        [{"case": case["code"], "name": case["name"], "row": _("(the whole case)"),
          "why": i18n.text(reason["message"])} for case in impact for reason in case["reasons"]] +
        [{"case": case["code"], "name": case["name"], "row": row["name"], "why": i18n.text(reason["message"])}
         for case in impact for row in case["rows"] for reason in row["reasons"]]), hide_index=True,
        column_config={"case": _("Case"), "name": _("Name"), "row": _("Row"), "why": _("Why")})


def regenerate_offer() -> None:
    """After an import that broke cases: start a task for each one that has a test case and a scene."""
    done = st.session_state.get("openapi_done") or {}
    broken = [case["case_id"] for case in done.get("impact", []) if case["regenerable"]]
    if not broken or not st.button(_("Regenerate {count} affected case(s)", count=len(broken)),
                                   key="openapi_regenerate"):
        return
    ok, outcomes = ui.attempt(lambda: service.regenerate_cases(broken, user=actor.username))
    if ok and outcomes is not None:
        del st.session_state["openapi_done"]
        st.success(_("Started {count} task(s); see the Tasks page.", count=sum(1 for item in outcomes if item["ok"])))
        for item in outcomes:
            if not item["ok"]:
                st.error(ui.escape(i18n.text(item["message"])))


def openapi_tab() -> None:
    st.caption(_("Every operation becomes a scene. Importing the same document again updates its scenes in place."))
    upload = st.file_uploader(_("OpenAPI 3.0 or 3.1 document"), type=["json", "yaml", "yml"], key="openapi_upload")
    module = st.text_input(_("Module"), key="openapi_module", help=_("Leave empty to use each operation's first tag."))
    if upload is None:
        return
    ok, plan = ui.attempt(lambda: service.import_openapi(upload.getvalue(), upload.name, user=actor.username,
                                                         module=module, dry_run=True))
    if not ok or plan is None:
        return
    plan_summary(plan)
    impact_table(plan["impact"])
    nothing = not (plan["added"] or plan["changed"] or plan["removed"])
    confirmed = not plan["impact"] or st.checkbox(_("Import anyway: I have read what it breaks"),
                                                  key="openapi_confirm")
    if st.button(_("Import"), type="primary", disabled=nothing or not confirmed, key="openapi_import"):
        ok, done = ui.attempt(lambda: service.import_openapi(upload.getvalue(), upload.name, user=actor.username,
                                                             module=module))
        if ok and done is not None:
            st.session_state["openapi_done"] = done
            st.success(_("Imported {document}: {added} new, {changed} changed, {removed} removed scene(s).",
                         document=ui.escape(plan["document"]), added=len(done["added"]),
                         changed=len(done["changed"]), removed=len(done["removed"])))
            st.page_link(ui.page_file("scenes"), label=_("See the scenes"), icon=":material/api:")
    elif nothing:
        ui.empty_state(_("The scenes already match this document: nothing to import."), icon=":material/check:")
    regenerate_offer()


def cases_preview(upload: UploadedFile) -> dict[str, Any] | None:
    """The rows of the file as they would be imported, each with its errors; None when it cannot be read."""
    ok, preview = ui.attempt(lambda: service.preview_test_cases(upload.getvalue(), upload.name))
    if not ok or preview is None:
        return None
    frame = pd.DataFrame([{"row": row["line"], "errors": " ".join(i18n.text(e) for e in row["errors"]),
                           **row["values"]} for row in preview["rows"]])
    bad = sum(1 for row in preview["rows"] if row["errors"])
    if preview["ignored_columns"]:
        st.caption(_("Ignored columns: {columns}", columns=ui.escape(", ".join(preview["ignored_columns"]))))
    if bad:
        st.error(_("{bad} of {total} rows have errors. Fix the file and upload it again.", bad=bad,
                   total=len(preview["rows"])))
    st.dataframe(frame, hide_index=True, column_config={"row": _("Line"), "errors": _("Errors")})
    return preview


def cases_tab() -> None:
    st.caption(_("Columns are found by their header, in English or Chinese (标题, 模块, 前置条件, 测试步骤, 预期结果, "
                 "优先级, 场景). Nothing is written unless every row is fine."))
    st.download_button(_("CSV template"), TEMPLATE, file_name="test_cases_template.csv", mime="text/csv",
                       on_click="ignore")
    upload = st.file_uploader(_("CSV or XLSX file"), type=["csv", "xlsx"], key="cases_upload")
    if upload is None:
        return
    preview = cases_preview(upload)
    if preview is None:
        return
    if st.button(_("Import {count} test case(s)", count=len(preview["rows"])), type="primary",
                 disabled=not preview["valid"], key="cases_import"):
        ok, done = ui.attempt(lambda: service.import_test_cases(upload.getvalue(), upload.name, user=actor.username))
        if ok and done is not None:
            st.success(_("Imported {count} test case(s).", count=done["created"]))
            st.page_link(ui.page_file("test_cases"), label=_("See the test cases"), icon=":material/checklist:")


def imports_page() -> None:
    st.title(_("Import"))
    if not actor.can_operate:
        ui.empty_state(_("Viewers can browse the library but not import into it."), icon=":material/lock:")
        return
    api_tab, test_cases_tab = st.tabs([_("OpenAPI document"), _("Test cases")])
    with api_tab:
        openapi_tab()
    with test_cases_tab:
        cases_tab()


imports_page()
