"""Automation cases: the list, and each case's rows, assertions, origin, exports, runs and run history."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui

SHOWN = 200

actor = ui.require_actor()


def module_download(module: str) -> None:
    ok, bundle = ui.attempt(lambda: service.export_module(module))
    if ok and bundle is not None:
        st.download_button(f"Download module {ui.escape(module)} (zip)", bundle.content, file_name=bundle.filename,
                           mime=bundle.media_type, on_click="ignore")


def pick_case() -> dict[str, Any] | None:
    """The filters and the table; the selected automation case, if any."""
    search_column, module_column = st.columns([2, 1])
    search = search_column.text_input("Search", placeholder="UC12, name, path or scene", key="auto_search")
    module = module_column.selectbox("Module", [None, *service.list_modules("automation_cases")],
                                     format_func=lambda m: m or "All", key="auto_module")
    if module is not None:
        with module_column:
            module_download(module)
    page = service.list_automation_cases(search=search, module=module, limit=SHOWN)
    if not page["items"]:
        ui.empty_state("No automation cases yet: they are created when a reviewer approves a task.")
        return None
    table = pd.DataFrame([{**item, "last run": (item["last_run"] or {}).get("status", "")} for item in page["items"]])
    picked = st.dataframe(table[["code", "name", "module_id", "method", "path", "rows", "last run", "created_at"]],
                          hide_index=True, on_select="rerun", selection_mode="single-row", key="auto_table")
    if not picked.selection.rows:
        st.caption(f"{page['total']} case(s). Select one to see its rows, export or run it.")
        return None
    return service.get_automation_case(page["items"][picked.selection.rows[0]]["id"])


def heading(case: dict[str, Any]) -> None:
    st.header(f"{case['code']} · {ui.escape(case['name'])}")
    st.caption(ui.escape(f"{case['method']} {case['path']} · scene {case['scene_id']} · "
                         f"module {case['module_id'] or '—'} · {case['provider']}/{case['model']}"))
    origin, produced = st.columns(2)
    task, review, test_case = case["task"], case["review"], case["test_case"]
    task_text = f"{task['id']} ({task['thread_id']}, {task['status']})" if task else "removed by the retention"
    review_text = f" (round {review['round']}): {review['feedback'] or 'no feedback'}" if review else ""
    origin.markdown(f"**Test case:** {ui.escape(test_case['title'] if test_case else '—')}  \n"
                    f"**Task:** {ui.escape(task_text)}")
    produced.markdown(f"**Created by:** {ui.escape(case['created_by'] or '—')} at {case['created_at']}  \n"
                      f"**Reviewed by:** {ui.escape((case['reviewed_by'] or '—') + review_text)}")


def downloads(case: dict[str, Any]) -> None:
    for fmt, label in (("pytest", "Download pytest file"), ("json", "Download JSON")):
        ok, item = ui.attempt(lambda fmt=fmt: service.export_case(case["id"], fmt))
        if ok and item is not None:
            st.download_button(label, item.content, file_name=item.filename, mime=item.media_type,
                               on_click="ignore", key=f"download_{fmt}")


def rows_table(case: dict[str, Any]) -> None:
    st.dataframe(pd.DataFrame([{"name": row["name"], "kind": row["kind"], "expected": row["expected_status"],
                                "field": row.get("pointer") or "", "keyword": row.get("keyword") or "",
                                "description": row.get("description", ""),
                                "body": json.dumps(row["body"], ensure_ascii=False)} for row in case["rows"]]),
                 hide_index=True)


def strength_flag(case: dict[str, Any]) -> None:
    """Whether the checks fail on wrong responses made from the latest run's (see docs/library.md)."""
    strength = service.assertion_strength(case["id"])
    if strength["verdict"] == "unknown":
        st.caption("Assertion strength: run the case; its checks are then tried on wrong responses.")
    elif strength["verdict"] == "strong":
        st.caption(f"Assertion strength (run {strength['run_id']}): every row fails on a wrong status and on some "
                   f"wrong body ({strength['caught']} of {strength['mutants']} wrong responses caught).")
    else:
        weak = {row["name"]: row["reason"] for row in strength["rows"] if row["verdict"] == "weak"}
        st.warning(f"Weak assertions (run {strength['run_id']}): {len(weak)} row(s) pass a wrong response.")
        st.dataframe(pd.DataFrame([{"row": name, "why": why} for name, why in weak.items()]), hide_index=True)


def checks_table(case: dict[str, Any]) -> None:
    strength_flag(case)
    st.dataframe(pd.DataFrame([{"row": row["name"], "check": check["kind"], "path": check.get("path") or "",
                                "expected": json.dumps(check.get("expected"), ensure_ascii=False)}
                               for row in case["rows"] for check in service.row_checks(row)]), hide_index=True)


def run_form(case: dict[str, Any]) -> None:
    if not actor.can_operate:
        st.caption("Viewers cannot run cases.")
        return
    with st.form("run_case"):
        base_url = st.text_input("Base URL", placeholder="https://api.example.test/v1")
        token = st.text_input("Bearer token (optional, never stored)", type="password")
        timeout = st.number_input("Timeout per request (s)", 1.0, 120.0, service.DEFAULT_RUN_TIMEOUT_SECONDS)
        if not st.form_submit_button("Run every row", type="primary"):
            return
    with st.spinner(f"Sending {len(case['rows'])} requests…"):
        ok, run = ui.attempt(lambda: service.run_case(case["id"], base_url, user=actor.username,
                                                      token=token or None, timeout=timeout))
    if ok and run is not None:
        (st.success if run["status"] == "passed" else st.error)(
            f"{run['passed']} of {run['total']} rows passed in {run['duration_ms']} ms.")


def run_history(case: dict[str, Any]) -> None:
    runs = service.get_automation_case(case["id"])["runs"]  # read again: a run may have just finished
    if not runs:
        st.caption("Never run yet.")
    for run in runs:
        icon = "✅" if run["status"] == "passed" else "❌"
        label = ui.escape(f"{run['started_at']} · {run['base_url']} · {run['passed']}/{run['total']} passed")
        with st.expander(f"{icon} {label}"):
            st.dataframe(pd.DataFrame([{"row": row["name"], "kind": row["kind"], "status": row["status_code"],
                                        "passed": row["passed"], "failed assertion": "; ".join(row["failures"]),
                                        "ms": row["duration_ms"], "response": row["response_excerpt"]}
                                       for row in run["rows"]]), hide_index=True)


def automation_cases_page() -> None:
    st.title("Automation cases")
    case = pick_case()
    if case is None:
        return
    heading(case)
    downloads(case)
    tabs = st.tabs([f"Data rows ({len(case['rows'])})", "Assertions", "Run", "Run history"])
    for tab, render in zip(tabs, (rows_table, checks_table, run_form, run_history), strict=True):
        with tab:
            render(case)


automation_cases_page()
