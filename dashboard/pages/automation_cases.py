"""Automation cases: the list, and each case's rows, assertions, origin, exports, runs and run history."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import i18n, review_trace, ui
from dashboard.i18n import _

SHOWN = 200

actor = ui.require_actor()


def module_download(module: str) -> None:
    ok, bundle = ui.attempt(lambda: service.export_module(module))
    if ok and bundle is not None:
        st.download_button(_("Download module {module} (zip)", module=ui.escape(module)), bundle.content,
                           file_name=bundle.filename, mime=bundle.media_type, on_click="ignore")


def pick_case() -> dict[str, Any] | None:
    """The filters and the table; the selected automation case, if any."""
    search_column, module_column = st.columns([2, 1])
    search = search_column.text_input(_("Search"), placeholder=_("UC12, name, path or scene"), key="auto_search")
    module = module_column.selectbox(_("Module"), [None, *service.list_modules("automation_cases")],
                                     format_func=lambda m: m or _("All"), key="auto_module")
    if module is not None:
        with module_column:
            module_download(module)
    page = service.list_automation_cases(search=search, module=module, limit=SHOWN)
    if not page["items"]:
        empty(bool(search or module))
        return None
    items = page["items"]
    table = pd.DataFrame({
        "code": [item["code"] for item in items], "name": [item["name"] for item in items],
        "module_id": [item["module_id"] for item in items], "method": [item["method"] for item in items],
        "path": [item["path"] for item in items], "rows": [item["rows"] for item in items],
        "last_run": [run_text(item["last_run"]) for item in items],
        "created": [ui.local_time(item["created_at"], seconds=False) for item in items],
    })
    picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="auto_table",
                          column_config={
                              "code": st.column_config.TextColumn(_("Case"), width=70),
                              "name": st.column_config.TextColumn(_("Name"), width=260),
                              "module_id": st.column_config.TextColumn(_("Module"), width=100),
                              "method": st.column_config.TextColumn(_("Method"), width=70),
                              "path": st.column_config.TextColumn(_("Path"), width=180),
                              "rows": st.column_config.NumberColumn(_("Rows"), format="%d", width=60),
                              "last_run": st.column_config.TextColumn(_("Last run"), width=110),
                              "created": st.column_config.TextColumn(_("Created ({zone})", zone=ui.zone_name()),
                                                                     width=170)})
    if not picked.selection.rows:
        st.caption(_("{count} case(s). Select one to see its rows, export or run it.", count=page["total"]))
        return None
    return service.get_automation_case(page["items"][picked.selection.rows[0]]["id"])


def run_text(run: dict[str, Any] | None) -> str:
    """A run's outcome: "✅ passed", "❌ failed", or "never run"."""
    if not run:
        return _("never run")
    return "✅ " + _("passed") if run.get("status") == "passed" else "❌ " + _("failed")


def empty(filtered: bool) -> None:
    """No automation case to list: what to do next."""
    if filtered:
        ui.empty_state(_("No automation case matches. Clear the search or pick another module."),
                       icon=":material/search_off:")
        return
    ui.empty_state(_("No automation cases yet: one is created each time a reviewer approves a task's rows."),
                   icon=":material/inventory_2:")
    st.page_link(ui.page_file("review"), label=_("Tasks awaiting review"), icon=":material/rate_review:")


def heading(case: dict[str, Any]) -> None:
    st.header(f"{case['code']} · {ui.escape(case['name'])}")
    st.caption(_("{method} {path} · scene {scene} · module {module} · {provider}/{model}",
                 method=case["method"], path=ui.escape(case["path"]), scene=ui.escape(case["scene_id"]),
                 module=ui.escape(case["module_id"] or "—"), provider=ui.escape(case["provider"]),
                 model=ui.escape(case["model"])))
    origin, produced = st.columns(2)
    task, review, test_case = case["task"], case["review"], case["test_case"]
    review_text = _(" (round {round}): {feedback}", round=review["round"],
                    feedback=ui.escape(review["feedback"] or _("no feedback"))) if review else ""
    with origin:
        st.markdown(_("**Test case:** {title}", title=ui.escape(test_case["title"] if test_case else "—")))
        if task:
            ui.page_link_to_task(task["id"], label=_("Task #{id}", id=task["id"])
                                 + f" · {ui.status_text(task['status'])}", icon=":material/description:")
        else:
            st.markdown(_("**Task:** removed by the retention"))
    produced.markdown(_("**Created by:** {user} at {at}", user=ui.escape(case["created_by"] or "—"),
                        at=ui.local_time(case["created_at"])) + "  \n"
                      + _("**Reviewed by:** {user}", user=ui.escape(case["reviewed_by"] or "—")) + review_text)


def downloads(case: dict[str, Any]) -> None:
    for fmt, label in (("pytest", _("Download pytest file")), ("json", _("Download JSON"))):
        ok, item = ui.attempt(lambda fmt=fmt: service.export_case(case["id"], fmt))
        if ok and item is not None:
            st.download_button(label, item.content, file_name=item.filename, mime=item.media_type,
                               on_click="ignore", key=f"download_{fmt}")


def rows_table(case: dict[str, Any]) -> None:
    st.dataframe(pd.DataFrame([{"name": row["name"], "kind": row["kind"], "expected": row["expected_status"],
                                "field": row.get("pointer") or "", "keyword": row.get("keyword") or "",
                                "description": row.get("description", ""),
                                "body": json.dumps(row["body"], ensure_ascii=False)} for row in case["rows"]]),
                 hide_index=True, column_config={
                     "name": _("Row"), "kind": _("Kind"), "expected": _("Expected"), "field": _("Field"),
                     "keyword": _("Keyword"), "description": _("Description"), "body": _("Body")})


def strength_flag(case: dict[str, Any]) -> None:
    """Whether the checks fail on wrong responses made from the latest run's (see docs/library.md)."""
    strength = service.assertion_strength(case["id"])
    if strength["verdict"] == "unknown":
        st.caption(_("Assertion strength: run the case; its checks are then tried on wrong responses."))
    elif strength["verdict"] == "strong":
        st.caption(_("Assertion strength (run {run}): every row fails on a wrong status and on some wrong body "
                     "({caught} of {mutants} wrong responses caught).", run=strength["run_id"],
                     caught=strength["caught"], mutants=strength["mutants"]))
    else:
        weak = {row["name"]: row["reason"] for row in strength["rows"] if row["verdict"] == "weak"}
        st.warning(_("Weak assertions (run {run}): {count} row(s) pass a wrong response.", run=strength["run_id"],
                     count=len(weak)))
        st.dataframe(pd.DataFrame([{"row": name, "why": i18n.text(why)} for name, why in weak.items()]),
                     hide_index=True, column_config={"row": _("Row"), "why": _("Why")})


def checks_table(case: dict[str, Any]) -> None:
    strength_flag(case)
    st.dataframe(pd.DataFrame([{"row": row["name"], "check": check["kind"], "path": check.get("path") or "",
                                "expected": json.dumps(check.get("expected"), ensure_ascii=False)}
                               for row in case["rows"] for check in service.row_checks(row)]), hide_index=True,
                 column_config={"row": _("Row"), "check": _("Assertion"), "path": _("Path"), "expected": _("Expected")})
    linked = case.get("test_case") or {}
    review_trace.panel(linked.get("id"), case["method"], case["path"],
                       [{**row, "checks": service.row_checks(row)} for row in case["rows"]])


def run_form(case: dict[str, Any]) -> None:
    if not actor.can_operate:
        st.caption(_("Viewers cannot run cases."))
        return
    with st.form("run_case"):
        base_url = st.text_input(_("Base URL"), placeholder="https://api.example.test/v1")
        token = st.text_input(_("Bearer token (optional, never stored)"), type="password")
        timeout = st.number_input(_("Timeout per request (s)"), 1.0, 120.0, service.DEFAULT_RUN_TIMEOUT_SECONDS)
        if not st.form_submit_button(_("Run every row"), type="primary"):
            return
    with st.spinner(_("Sending {count} requests…", count=len(case["rows"]))):
        ok, run = ui.attempt(lambda: service.run_case(case["id"], base_url, user=actor.username,
                                                      token=token or None, timeout=timeout))
    if ok and run is not None:
        (st.success if run["status"] == "passed" else st.error)(
            _("{passed} of {total} rows passed in {ms} ms.", passed=run["passed"], total=run["total"],
              ms=run["duration_ms"]))


def run_history(case: dict[str, Any]) -> None:
    runs = service.get_automation_case(case["id"])["runs"]  # read again: a run may have just finished
    if not runs:
        st.caption(_("Never run yet: run it from the Run tab."))
    for run in runs:
        icon = "✅" if run["status"] == "passed" else "❌"
        label = ui.escape(f"{ui.local_time(run['started_at'])} · {run['base_url']} · ") + _(
            "{passed}/{total} passed", passed=run["passed"], total=run["total"])
        with st.expander(f"{icon} {label}"):
            st.dataframe(pd.DataFrame([{"row": row["name"], "kind": row["kind"], "status": row["status_code"],
                                        "passed": row["passed"], "failed assertion": "; ".join(row["failures"]),
                                        "ms": row["duration_ms"], "response": row["response_excerpt"]}
                                       for row in run["rows"]]), hide_index=True, column_config={
                "row": _("Row"), "kind": _("Kind"), "status": _("Status"), "passed": _("Passed"),
                "failed assertion": _("Failed assertion"), "response": _("Response")})


def automation_cases_page() -> None:
    st.title(_("Automation cases"))
    case = pick_case()
    if case is None:
        return
    heading(case)
    downloads(case)
    tabs = st.tabs([_("Data rows ({count})", count=len(case["rows"])), _("Assertions"), _("Run"), _("Run history")])
    for tab, render in zip(tabs, (rows_table, checks_table, run_form, run_history), strict=True):
        with tab:
            render(case)


automation_cases_page()
