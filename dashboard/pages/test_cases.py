"""Test cases: search, filter, create and edit manual test cases, and launch a workflow from one."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui
from dashboard.i18n import _, _n

SHOWN = 200

actor = ui.require_actor()


def scene_label(scenes: dict[str, dict[str, Any]], scene_id: str | None) -> str:
    """Plain text for select boxes and grid cells: "SC001 · POST /users"."""
    if not scene_id:
        return _("(no scene)")
    scene = scenes.get(scene_id)
    return f"{scene_id} · {scene['method']} {scene['path']}" if scene else scene_id


def case_form(key: str, case: dict[str, Any], scenes: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The fields of a test case as a form; the values when submitted, else None."""
    with st.form(key):
        values: dict[str, Any] = {"title": st.text_input(_("Title"), case.get("title", ""))}
        left, middle, right = st.columns(3)
        values["module"] = left.text_input(_("Module"), case.get("module", ""))
        priorities = list(service.TEST_CASE_PRIORITIES)
        current_priority = case.get("priority") or service.DEFAULT_TEST_CASE_PRIORITY
        values["priority"] = middle.selectbox(_("Priority"), priorities, index=priorities.index(current_priority))
        options = [None, *scenes]
        current = case.get("scene_id")
        values["scene_id"] = right.selectbox(_("Scene"), options, format_func=lambda i: scene_label(scenes, i),
                                             index=options.index(current) if current in options else 0)
        values["preconditions"] = st.text_area(_("Preconditions"), case.get("preconditions", ""))
        values["steps"] = st.text_area(_("Steps"), case.get("steps", ""))
        values["expected_result"] = st.text_area(_("Expected result"), case.get("expected_result", ""))
        return values if st.form_submit_button(_("Save"), type="primary") else None


def new_case(scenes: dict[str, dict[str, Any]]) -> None:
    with st.expander(_("New test case"), icon=":material/add:"):
        submitted = case_form("new_case", {}, scenes)
        if submitted is not None:
            ok, created = ui.attempt(lambda: service.create_test_case(submitted, user=actor.username))
            if ok and created is not None:
                st.success(_("Created test case {id}. Select it in the list to launch a workflow from it.",
                             id=created["id"]))


def pick_case(scenes: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The filters and the table; the selected test case, if any."""
    search_column, module_column = st.columns([2, 1])
    search = search_column.text_input(_("Search"), placeholder=_("title, steps or expected result"),
                                      key="cases_search")
    module = module_column.selectbox(_("Module"), [None, *service.list_modules("test_cases")],
                                     format_func=lambda m: m or _("All"), key="cases_module")
    if actor.can_operate:
        new_case(scenes)
    page = service.list_test_cases(search=search, module=module, limit=SHOWN)
    st.caption(_("{count} test case(s)", count=page["total"])
               + (_(", showing the newest {shown}", shown=SHOWN) if page["total"] > SHOWN else ""))
    if not page["items"]:
        empty(bool(search or module))
        return None
    table = pd.DataFrame({
        "id": [item["id"] for item in page["items"]], "title": [item["title"] for item in page["items"]],
        "module": [item["module"] for item in page["items"]], "priority": [item["priority"] for item in page["items"]],
        "scene": [scene_label(scenes, item["scene_id"]) if item["scene_id"] else "" for item in page["items"]],
        "updated": [ui.local_time(item["updated_at"], seconds=False) for item in page["items"]],
    })
    picked = st.dataframe(table, hide_index=True, on_select="rerun", key="cases_table",
                          selection_mode="multi-row" if actor.can_operate else "single-row",
                          column_config={
                              "id": st.column_config.NumberColumn("#", format="%d", width=50),
                              "title": st.column_config.TextColumn(_("Title"), width=320),
                              "module": st.column_config.TextColumn(_("Module"), width=110),
                              "priority": st.column_config.TextColumn(_("Priority"), width=70),
                              "scene": st.column_config.TextColumn(_("Scene"), width=240),
                              "updated": st.column_config.TextColumn(_("Updated ({zone})", zone=ui.zone_name()),
                                                                     width=170)})
    chosen = [page["items"][row] for row in picked.selection.rows if 0 <= row < len(page["items"])]
    if actor.can_operate:
        launch_selected(chosen)
    if len(chosen) != 1:
        st.caption(_("Select a test case to see, edit or launch it; select several to launch one task each."))
        return None
    return service.get_test_case(chosen[0]["id"])


def launch_selected(chosen: list[dict[str, Any]]) -> None:
    """The list's own launch: one task per selected test case, on the scene each links to (as the detail does)."""
    for started in st.session_state.pop("cases_launched", []):
        ui.page_link_to_task(started, label=_("Follow task #{id}", id=started), icon=":material/open_in_new:")
    linked = [case for case in chosen if case["scene_id"]]
    if not chosen:
        return
    if st.button(_n("Launch {count} task", "Launch {count} tasks", len(linked), count=len(linked)),
                 icon=":material/rocket_launch:", disabled=not linked, key="cases_launch_selected",
                 help=_("One task per selected test case, on the scene it links to; priority 5.")):
        started = [ui.attempt(lambda case=case: service.start_workflow(case["id"], case["scene_id"],
                                                                       user=actor.username))[1] for case in linked]
        st.session_state["cases_launched"] = [item["task_id"] for item in started if item is not None]
        st.rerun()
    if len(linked) < len(chosen):
        st.caption(_("Test cases without a scene are skipped: edit them to pick one."))


def empty(filtered: bool) -> None:
    """No test case to list: what to do next."""
    if filtered:
        ui.empty_state(_("No test case matches. Clear the search or pick another module."),
                       icon=":material/search_off:")
    elif actor.can_operate:
        ui.empty_state(_("No test cases yet. Create one above, or import a CSV or XLSX file."),
                       icon=":material/checklist:")
        st.page_link(ui.page_file("imports"), label=_("Import test cases"), icon=":material/upload_file:")
    else:
        ui.empty_state(_("No test cases yet. Engineers create or import them."), icon=":material/checklist:")


def heading(case: dict[str, Any], scenes: dict[str, dict[str, Any]]) -> None:
    st.header(f"{case['id']} · {ui.escape(case['title'])}")
    module = case["module"] or _("no module")
    st.caption(f"{ui.escape(module)} · {case['priority']} · "
               + _("scene: {scene}", scene=ui.escape(scene_label(scenes, case["scene_id"])))
               + " · " + _("updated {at}", at=ui.local_time(case["updated_at"])))


def details(case: dict[str, Any]) -> None:
    for label, key in ((_("Preconditions"), "preconditions"), (_("Steps"), "steps"),
                       (_("Expected result"), "expected_result")):
        st.markdown(f"**{label}**")
        st.text(case[key] or "—")


def launch(case: dict[str, Any], scenes: dict[str, dict[str, Any]]) -> None:
    st.subheader(_("Launch a workflow"))
    if not actor.can_operate:
        st.caption(_("Viewers cannot launch workflows."))
        return
    if not scenes:
        st.caption(_("Import a scene first: an OpenAPI document on the Import page."))
        return
    ids = list(scenes)
    chosen = st.selectbox(_("Scene"), ids, format_func=lambda i: scene_label(scenes, i),
                          index=ids.index(case["scene_id"]) if case["scene_id"] in ids else 0, key="launch_scene")
    priority = st.slider(_("Priority (9 runs first)"), min(service.TASK_PRIORITIES), max(service.TASK_PRIORITIES), 5,
                         key="launch_priority")
    if st.button(_("Launch"), type="primary", key="launch"):
        ok, started = ui.attempt(lambda: service.start_workflow(case["id"], chosen, priority=priority,
                                                                user=actor.username))
        if ok and started is not None:
            st.success(_("Task {id} queued ({thread}).", id=started["task_id"], thread=started["thread_id"]))
            ui.page_link_to_task(started["task_id"], label=_("Follow task #{id}", id=started["task_id"]),
                                 icon=":material/open_in_new:")


def edit(case: dict[str, Any], scenes: dict[str, dict[str, Any]]) -> None:
    with st.expander(_("Edit"), icon=":material/edit:"):
        submitted = case_form(f"edit_case_{case['id']}", case, scenes)
        if submitted is not None:
            if ui.attempt(lambda: service.update_test_case(case["id"], submitted, user=actor.username))[0]:
                st.success(_("Saved."))
                st.rerun()


def test_cases_page() -> None:
    st.title(_("Test cases"))
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
