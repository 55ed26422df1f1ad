"""Import: OpenAPI documents become scenes; CSV and XLSX files become manual test cases."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import service
from core.errors import CaseFlowError
from dashboard import ui

TEMPLATE = "title,module,preconditions,steps,expected result,priority,scene\n"

st.title("Import")
actor = ui.require_actor()
username = actor.username
if not actor.can_operate:
    st.info("Viewers can browse the library but not import into it.")
    st.stop()

api_tab, cases_tab = st.tabs(["OpenAPI document", "Test cases"])

with api_tab:
    st.caption("Every operation becomes a scene. Importing the same document again updates its scenes in place.")
    upload = st.file_uploader("OpenAPI 3.0 or 3.1 document", type=["json", "yaml", "yml"], key="openapi_upload")
    module = st.text_input("Module", key="openapi_module", help="Leave empty to use each operation's first tag.")
    if upload is not None:
        try:
            plan = service.import_openapi(upload.getvalue(), upload.name, user=username, module=module, dry_run=True)
        except CaseFlowError as error:
            st.error(error.message)
        else:
            st.subheader(f"{plan['document']} (OpenAPI {plan['version']})")
            added, changed, removed, same = st.columns(4)
            added.metric("New scenes", len(plan["added"]))
            changed.metric("Changed", len(plan["changed"]))
            removed.metric("Removed", len(plan["removed"]))
            same.metric("Unchanged", plan["unchanged"])
            for label, ids in (("New", plan["added"]), ("Changed", plan["changed"]), ("Removed", plan["removed"])):
                if ids:
                    st.write(f"**{label}:** " + ", ".join(f"`{scene_id}`" for scene_id in ids))
            if plan["unlinked_test_cases"]:
                st.warning(f"{plan['unlinked_test_cases']} test case(s) link to removed scenes and will be unlinked.")
            nothing = not (plan["added"] or plan["changed"] or plan["removed"])
            if st.button("Import", type="primary", disabled=nothing, key="openapi_import"):
                try:
                    done = service.import_openapi(upload.getvalue(), upload.name, user=username, module=module)
                except CaseFlowError as error:
                    st.error(error.message)
                else:
                    st.success(f"Imported {plan['document']}: {len(done['added'])} new, {len(done['changed'])} "
                               f"changed, {len(done['removed'])} removed scene(s).")
            elif nothing:
                st.info("The scenes already match this document: nothing to import.")

with cases_tab:
    st.caption("Columns are found by their header, in English or Chinese (标题, 模块, 前置条件, 测试步骤, 预期结果, "
               "优先级, 场景). Nothing is written unless every row is fine.")
    st.download_button("CSV template", TEMPLATE, file_name="test_cases_template.csv", mime="text/csv",
                       on_click="ignore")
    upload = st.file_uploader("CSV or XLSX file", type=["csv", "xlsx"], key="cases_upload")
    if upload is not None:
        try:
            preview = service.preview_test_cases(upload.getvalue(), upload.name)
        except CaseFlowError as error:
            st.error(error.message)
        else:
            frame = pd.DataFrame([{"row": row["line"], "errors": " ".join(row["errors"]), **row["values"]}
                                  for row in preview["rows"]])
            bad = sum(1 for row in preview["rows"] if row["errors"])
            if preview["ignored_columns"]:
                st.caption("Ignored columns: " + ", ".join(preview["ignored_columns"]))
            if bad:
                st.error(f"{bad} of {len(preview['rows'])} rows have errors. Fix the file and upload it again.")
            st.dataframe(frame, hide_index=True)
            if st.button(f"Import {len(preview['rows'])} test case(s)", type="primary", disabled=not preview["valid"],
                         key="cases_import"):
                try:
                    done = service.import_test_cases(upload.getvalue(), upload.name, user=username)
                except CaseFlowError as error:
                    st.error(error.message)
                else:
                    st.success(f"Imported {done['created']} test case(s).")
