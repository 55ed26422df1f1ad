"""Test cases: search, filter, create and edit manual test cases, and launch a workflow from one."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from core.errors import CaseFlowError
from core.library import catalog as library
from dashboard import ui

st.title("Test cases")
username = ui.require_actor().username
editor = library.can_edit(username)
scenes = {scene["id"]: scene for scene in library.list_scenes()}


def scene_label(scene_id: str | None) -> str:
    if not scene_id:
        return "(no scene)"
    scene = scenes.get(scene_id)
    return f"{scene_id} · {scene['method']} {scene['path']}" if scene else scene_id


def case_form(key: str, case: dict[str, Any]) -> dict[str, Any] | None:
    """The fields of a test case as a form; the values when submitted, else None."""
    with st.form(key):
        values: dict[str, Any] = {"title": st.text_input("Title", case.get("title", ""))}
        left, middle, right = st.columns(3)
        values["module"] = left.text_input("Module", case.get("module", ""))
        priorities = list(library.PRIORITIES)
        values["priority"] = middle.selectbox("Priority", priorities,
                                              index=priorities.index(case.get("priority") or library.DEFAULT_PRIORITY))
        options = [None, *scenes]
        current = case.get("scene_id")
        values["scene_id"] = right.selectbox("Scene", options, format_func=scene_label,
                                             index=options.index(current) if current in options else 0)
        values["preconditions"] = st.text_area("Preconditions", case.get("preconditions", ""))
        values["steps"] = st.text_area("Steps", case.get("steps", ""))
        values["expected_result"] = st.text_area("Expected result", case.get("expected_result", ""))
        return values if st.form_submit_button("Save", type="primary") else None


search_column, module_column = st.columns([2, 1])
search = search_column.text_input("Search", placeholder="title, steps or expected result", key="cases_search",
                                  max_chars=service.MAX_SEARCH)
module = module_column.selectbox("Module", [None, *library.modules("test_cases")], format_func=lambda m: m or "All",
                                 key="cases_module")

if editor:
    with st.expander("New test case"):
        submitted = case_form("new_case", {})
        if submitted is not None:
            try:
                created = library.create_test_case(submitted, user=username)
            except CaseFlowError as error:
                st.error(error.message)
            else:
                st.success(f"Created test case {created['id']}.")

page = library.list_test_cases(search=search, module=module, limit=200)
st.caption(f"{page['total']} test case(s)" + (", showing the newest 200" if page["total"] > 200 else ""))
if not page["items"]:
    st.info("No test cases match. Create one above or import a CSV or XLSX file on the Import page.")
    st.stop()
table = pd.DataFrame([{**item, "scene": scene_label(item["scene_id"]) if item["scene_id"] else ""}
                      for item in page["items"]])[["id", "title", "module", "priority", "scene", "updated_at"]]
picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="cases_table")
if not picked.selection.rows:
    st.caption("Select a test case to see, edit or launch it.")
    st.stop()

case = library.get_test_case(page["items"][picked.selection.rows[0]]["id"])
st.header(f"{case['id']} · {case['title']}")
st.caption(f"{case['module'] or 'no module'} · {case['priority']} · scene: {scene_label(case['scene_id'])}")
details, launch = st.columns([3, 2])
with details:
    for label, key in (("Preconditions", "preconditions"), ("Steps", "steps"), ("Expected result", "expected_result")):
        st.markdown(f"**{label}**")
        st.text(case[key] or "—")
with launch:
    st.subheader("Launch a workflow")
    if not editor:
        st.caption("Viewers cannot launch workflows.")
    elif not scenes:
        st.caption("Import a scene first.")
    else:
        ids = list(scenes)
        chosen = st.selectbox("Scene", ids, format_func=scene_label,
                              index=ids.index(case["scene_id"]) if case["scene_id"] in ids else 0, key="launch_scene")
        priority = st.slider("Priority (9 runs first)", 0, 9, 5, key="launch_priority")
        if st.button("Launch", type="primary", key="launch"):
            try:
                started = service.start_workflow(case["id"], chosen, priority=priority, user=username)
            except CaseFlowError as error:
                st.error(error.message)
            else:
                st.success(f"Task {started['task_id']} queued ({started['thread_id']}); follow it on the Tasks page.")

if editor:
    with st.expander("Edit"):
        submitted = case_form(f"edit_case_{case['id']}", case)
        if submitted is not None:
            try:
                library.update_test_case(case["id"], submitted, user=username)
            except CaseFlowError as error:
                st.error(error.message)
            else:
                st.success("Saved.")
                st.rerun()
