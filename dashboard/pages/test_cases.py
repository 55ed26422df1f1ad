"""Test cases: search, filter, create and edit manual test cases, and launch a workflow from one."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui

SHOWN = 200

actor = ui.require_actor()


def scene_label(scenes: dict[str, dict[str, Any]], scene_id: str | None) -> str:
    """Plain text for select boxes and grid cells: "SC001 · POST /users"."""
    if not scene_id:
        return "(no scene)"
    scene = scenes.get(scene_id)
    return f"{scene_id} · {scene['method']} {scene['path']}" if scene else scene_id


def case_form(key: str, case: dict[str, Any], scenes: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The fields of a test case as a form; the values when submitted, else None."""
    with st.form(key):
        values: dict[str, Any] = {"title": st.text_input("Title", case.get("title", ""))}
        left, middle, right = st.columns(3)
        values["module"] = left.text_input("Module", case.get("module", ""))
        priorities = list(service.TEST_CASE_PRIORITIES)
        current_priority = case.get("priority") or service.DEFAULT_TEST_CASE_PRIORITY
        values["priority"] = middle.selectbox("Priority", priorities, index=priorities.index(current_priority))
        options = [None, *scenes]
        current = case.get("scene_id")
        values["scene_id"] = right.selectbox("Scene", options, format_func=lambda i: scene_label(scenes, i),
                                             index=options.index(current) if current in options else 0)
        values["preconditions"] = st.text_area("Preconditions", case.get("preconditions", ""))
        values["steps"] = st.text_area("Steps", case.get("steps", ""))
        values["expected_result"] = st.text_area("Expected result", case.get("expected_result", ""))
        return values if st.form_submit_button("Save", type="primary") else None


def new_case(scenes: dict[str, dict[str, Any]]) -> None:
    with st.expander("New test case"):
        submitted = case_form("new_case", {}, scenes)
        if submitted is not None:
            ok, created = ui.attempt(lambda: service.create_test_case(submitted, user=actor.username))
            if ok and created is not None:
                st.success(f"Created test case {created['id']}.")


def pick_case(scenes: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The filters and the table; the selected test case, if any."""
    search_column, module_column = st.columns([2, 1])
    search = search_column.text_input("Search", placeholder="title, steps or expected result", key="cases_search")
    module = module_column.selectbox("Module", [None, *service.list_modules("test_cases")],
                                     format_func=lambda m: m or "All", key="cases_module")
    if actor.can_operate:
        new_case(scenes)
    page = service.list_test_cases(search=search, module=module, limit=SHOWN)
    st.caption(f"{page['total']} test case(s)" + (f", showing the newest {SHOWN}" if page["total"] > SHOWN else ""))
    if not page["items"]:
        ui.empty_state("No test cases match. Create one above or import a CSV or XLSX file on the Import page.",
                       icon=":material/search_off:")
        return None
    table = pd.DataFrame([{**item, "scene": scene_label(scenes, item["scene_id"]) if item["scene_id"] else ""}
                          for item in page["items"]])[["id", "title", "module", "priority", "scene", "updated_at"]]
    picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="cases_table")
    if not picked.selection.rows:
        st.caption("Select a test case to see, edit or launch it.")
        return None
    return service.get_test_case(page["items"][picked.selection.rows[0]]["id"])


def heading(case: dict[str, Any], scenes: dict[str, dict[str, Any]]) -> None:
    st.header(f"{case['id']} · {ui.escape(case['title'])}")
    st.caption(f"{ui.escape(case['module'] or 'no module')} · {case['priority']} · "
               f"scene: {ui.escape(scene_label(scenes, case['scene_id']))}")


def details(case: dict[str, Any]) -> None:
    for label, key in (("Preconditions", "preconditions"), ("Steps", "steps"), ("Expected result", "expected_result")):
        st.markdown(f"**{label}**")
        st.text(case[key] or "—")


def launch(case: dict[str, Any], scenes: dict[str, dict[str, Any]]) -> None:
    st.subheader("Launch a workflow")
    if not actor.can_operate:
        st.caption("Viewers cannot launch workflows.")
        return
    if not scenes:
        st.caption("Import a scene first.")
        return
    ids = list(scenes)
    chosen = st.selectbox("Scene", ids, format_func=lambda i: scene_label(scenes, i),
                          index=ids.index(case["scene_id"]) if case["scene_id"] in ids else 0, key="launch_scene")
    priority = st.slider("Priority (9 runs first)", min(service.TASK_PRIORITIES), max(service.TASK_PRIORITIES), 5,
                         key="launch_priority")
    if st.button("Launch", type="primary", key="launch"):
        ok, started = ui.attempt(lambda: service.start_workflow(case["id"], chosen, priority=priority,
                                                                user=actor.username))
        if ok and started is not None:
            st.success(f"Task {started['task_id']} queued ({started['thread_id']}); follow it on the Tasks page.")


def edit(case: dict[str, Any], scenes: dict[str, dict[str, Any]]) -> None:
    with st.expander("Edit"):
        submitted = case_form(f"edit_case_{case['id']}", case, scenes)
        if submitted is not None:
            ok, _ = ui.attempt(lambda: service.update_test_case(case["id"], submitted, user=actor.username))
            if ok:
                st.success("Saved.")
                st.rerun()


def test_cases_page() -> None:
    st.title("Test cases")
    scenes = {scene["id"]: scene for scene in service.list_scenes()}
    case = pick_case(scenes)
    if case is None:
        return
    heading(case, scenes)
    left, right = st.columns([3, 2])
    with left:
        details(case)
    with right:
        launch(case, scenes)
    if actor.can_operate:
        edit(case, scenes)


test_cases_page()
