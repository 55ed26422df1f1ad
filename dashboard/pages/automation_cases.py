"""Automation cases: the list, and each case's rows, assertions, origin, exports, runs and run history."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core import service
from core.errors import CaseFlowError
from core.library import catalog as library
from core.library import exporters
from core.library import runs as case_runs
from dashboard import ui

st.title("Automation cases")
username = ui.require_actor().username

search_column, module_column = st.columns([2, 1])
search = search_column.text_input("Search", placeholder="UC12, name, path or scene", key="auto_search",
                                  max_chars=service.MAX_SEARCH)
modules = library.modules("automation_cases")
module = module_column.selectbox("Module", [None, *modules], format_func=lambda m: m or "All", key="auto_module")
if module is not None:
    bundle = exporters.export_module(module)
    module_column.download_button(f"Download module {module} (zip)", bundle.content, file_name=bundle.filename,
                                  mime=bundle.media_type, on_click="ignore")

page = library.list_automation_cases(search=search, module=module, limit=200)
if not page["items"]:
    st.info("No automation cases yet: they are created when a reviewer approves a task.")
    st.stop()
table = pd.DataFrame([{**item, "last run": (item["last_run"] or {}).get("status", "")} for item in page["items"]])
picked = st.dataframe(table[["code", "name", "module_id", "method", "path", "rows", "last run", "created_at"]],
                      hide_index=True, on_select="rerun", selection_mode="single-row", key="auto_table")
if not picked.selection.rows:
    st.caption(f"{page['total']} case(s). Select one to see its rows, export or run it.")
    st.stop()

case = library.get_automation_case(page["items"][picked.selection.rows[0]]["id"])
st.header(f"{case['code']} · {case['name']}")
st.caption(f"{case['method']} {case['path']} · scene {case['scene_id']} · module {case['module_id'] or '—'} · "
           f"{case['provider']}/{case['model']}")
origin, produced = st.columns(2)
task, review, test_case = case["task"], case["review"], case["test_case"]
task_text = f"{task['id']} ({task['thread_id']}, {task['status']})" if task else "removed by the retention"
review_text = f" (round {review['round']}): {review['feedback'] or 'no feedback'}" if review else ""
origin.markdown(f"**Test case:** {test_case['title'] if test_case else '—'}  \n**Task:** {task_text}")
produced.markdown(f"**Created by:** {case['created_by'] or '—'} at {case['created_at']}  \n"
                  f"**Reviewed by:** {case['reviewed_by'] or '—'}{review_text}")

for fmt, label in (("pytest", "Download pytest file"), ("json", "Download JSON")):
    item = exporters.export_case(case["id"], fmt)
    st.download_button(label, item.content, file_name=item.filename, mime=item.media_type, on_click="ignore",
                       key=f"download_{fmt}")

rows_tab, checks_tab, run_tab, history_tab = st.tabs(
    [f"Data rows ({len(case['rows'])})", "Assertions", "Run", "Run history"])
with rows_tab:
    st.dataframe(pd.DataFrame([{"name": row["name"], "kind": row["kind"], "expected": row["expected_status"],
                                "field": row.get("pointer") or "", "keyword": row.get("keyword") or "",
                                "description": row.get("description", ""),
                                "body": json.dumps(row["body"], ensure_ascii=False)} for row in case["rows"]]),
                 hide_index=True)
with checks_tab:
    st.dataframe(pd.DataFrame([{"row": row["name"], "check": check["kind"], "path": check.get("path") or "",
                                "expected": json.dumps(check.get("expected"), ensure_ascii=False)}
                               for row in case["rows"] for check in case_runs.row_checks(row)]), hide_index=True)
with run_tab:
    if not library.can_edit(username):
        st.caption("Viewers cannot run cases.")
    else:
        with st.form("run_case"):
            base_url = st.text_input("Base URL", placeholder="https://api.example.test/v1",
                                     help="user:password@ in the URL is sent as basic auth and never stored")
            token = st.text_input("Bearer token (optional, never stored)", type="password")
            timeout = st.number_input("Timeout per request (s)", 1.0, 120.0, case_runs.DEFAULT_TIMEOUT_SECONDS)
            if st.form_submit_button("Run every row", type="primary"):
                try:
                    with st.spinner(f"Sending {len(case['rows'])} requests…"):
                        run = service.run_case(case["id"], base_url, user=username, token=token or None,
                                               timeout=timeout)
                except CaseFlowError as error:
                    st.error(error.message)
                else:
                    (st.success if run["status"] == "passed" else st.error)(
                        f"{run['passed']} of {run['total']} rows passed in {run['duration_ms']} ms.")
with history_tab:
    runs = library.get_automation_case(case["id"])["runs"]  # read again: a run may have just finished
    if not runs:
        st.caption("Never run yet.")
    for run in runs:
        icon = "✅" if run["status"] == "passed" else "❌"
        with st.expander(f"{icon} {run['started_at']} · {run['base_url']} · {run['passed']}/{run['total']} passed"):
            st.dataframe(pd.DataFrame([{"row": row["name"], "kind": row["kind"], "status": row["status_code"],
                                        "passed": row["passed"], "failed assertion": "; ".join(row["failures"]),
                                        "ms": row["duration_ms"], "response": row["response_excerpt"]}
                                       for row in run["rows"]]), hide_index=True)
