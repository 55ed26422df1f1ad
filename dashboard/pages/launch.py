"""Launch: pick a scene (by module) and one or many test cases; each becomes a queued task at once."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui
from dashboard.i18n import N_, _, _n

PRIORITY_LABELS = {0: N_("0 · lowest"), 3: N_("3 · low"), 5: N_("5 · normal"), 7: N_("7 · high"), 9: N_("9 · urgent")}

actor = ui.require_actor()


def launched_notes() -> None:
    """The tasks the last click queued, each with a link to its page."""
    for launched in st.session_state.pop("launched", []):
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(":material/check_circle: " + _("Queued **#{id}** {name}", id=launched["task_id"],
                                                          name=ui.escape(launched["name"])))
            ui.page_link_to_task(launched["task_id"], label=_("Open task"), icon=":material/open_in_new:")


def pick_scene(scenes_all: list[dict[str, Any]]) -> dict[str, Any]:
    left, right = st.columns([1, 2.4])
    module = left.selectbox(_("Module"), ["", *service.list_modules()], key="launch_module",
                            format_func=lambda m: m or _("All modules ({count} scenes)", count=len(scenes_all)))
    by_id = {scene["id"]: scene for scene in service.list_scenes(module or None)}
    scene_id = right.selectbox(
        _("Scene"), list(by_id), key="launch_scene",
        format_func=lambda i: f"{i} · {by_id[i]['name']} — {by_id[i]['method']} {by_id[i]['path']}")
    scene = by_id[scene_id]
    with st.container(border=True):
        st.markdown(f"**{scene['method']}** {ui.escape(scene['path'])} &nbsp; **{ui.escape(scene['name'])}** "
                    f":gray-badge[{ui.escape(scene['module'])}] "
                    + ":gray-badge[" + _("{count} body fields", count=scene["fields"]) + "]")
        if scene["summary"]:
            st.text(scene["summary"])
    return scene


def pick_cases(scene_id: str) -> list[dict[str, Any]]:
    """The test cases selected in the table (searchable, by default those linked to the scene)."""
    st.subheader(_("Test cases"))
    search_col, scope_col = st.columns([2.4, 1], vertical_alignment="bottom")
    search = search_col.text_input(_("Search"), key="launch_search", placeholder=_("Title, steps or expected result…"),
                                   label_visibility="collapsed", icon=":material/search:")
    linked_only = scope_col.toggle(_("Only cases linked to this scene"), value=True, key="launch_linked")
    cases = service.list_test_cases(search=search or None, scene_id=scene_id if linked_only else None,
                                    limit=200)["items"]
    if not cases:
        hint = _("Turn off “Only cases linked to this scene” to pick any case.") if linked_only else _(
            "Clear the search.")
        ui.empty_state(_("No test case matches. {hint}", hint=hint), icon=":material/search_off:")
        return []
    picker = st.dataframe(
        pd.DataFrame({
            "id": [c["id"] for c in cases], "title": [c["title"] for c in cases],
            "module": [c["module"] for c in cases], "priority": [c["priority"] for c in cases],
            "expected": [c["expected_result"] for c in cases],
        }),
        key=f"launch_pick_{scene_id}_{linked_only}_{search}_{st.session_state.get('launch_round', 0)}",
        on_select="rerun", selection_mode="multi-row", hide_index=True, row_height=34, column_config={
            "id": st.column_config.NumberColumn("#", format="%d", width=50),
            "title": st.column_config.TextColumn(_("Title"), width=330),
            "module": st.column_config.TextColumn(_("Module"), width=90),
            "priority": st.column_config.TextColumn(_("Case priority"), width=100),
            "expected": st.column_config.TextColumn(_("Expected result")),
        },
    )
    chosen = [cases[row] for row in picker["selection"]["rows"]]
    st.caption(_("{count} of {total} selected · select several rows to launch one task each", count=len(chosen),
                 total=len(cases)))
    return chosen


def launch_bar(chosen: list[dict[str, Any]], scene_id: str) -> None:
    """Editable task names, one priority, and the button that queues one task per chosen case."""
    st.subheader(_("Tasks to launch"))
    names = st.data_editor(
        pd.DataFrame({"case": [f"#{c['id']}" for c in chosen], "name": [c["title"] for c in chosen]}),
        key="launch_names_" + "_".join(str(c["id"]) for c in chosen), hide_index=True, disabled=["case"],
        column_config={"case": st.column_config.TextColumn(_("Case"), width=70),
                       "name": st.column_config.TextColumn(_("Task name (editable)"), required=True, width="large")},
    )
    priority = st.select_slider(_("Priority"), options=list(service.TASK_PRIORITIES), value=5, key="launch_priority",
                                format_func=lambda p: _(PRIORITY_LABELS[p]) if p in PRIORITY_LABELS else str(p),
                                help=_("Workers take higher priorities first, then the oldest task."))
    if st.button(_n("Launch {count} task", "Launch {count} tasks", len(chosen), count=len(chosen)), type="primary",
                 icon=":material/rocket_launch:", key="launch_go"):
        launched = []
        for case, name in zip(chosen, names["name"], strict=True):
            ok, started = ui.attempt(lambda case=case, name=name: service.start_workflow(
                case["id"], scene_id, name=str(name or "").strip() or None, priority=priority, user=actor.username))
            if ok and started is not None:
                launched.append({"task_id": started["task_id"], "name": str(name or case["title"])})
        if launched:
            st.session_state["launched"] = launched
            st.session_state["launch_round"] = st.session_state.get("launch_round", 0) + 1  # a fresh selection
            st.rerun()


def launch_page() -> None:
    st.title(_("Launch"))
    st.caption(_("Each selected test case becomes one task; it is queued at once and runs in the background."))
    if not actor.can_operate:
        ui.empty_state(_("Viewers can follow tasks but not launch them. Ask an admin for the engineer role."),
                       icon=":material/lock:")
        return
    launched_notes()
    scenes_all = service.list_scenes()
    if not scenes_all:
        ui.empty_state(_("No scenes yet. Import an OpenAPI document (Library → Import) or run "
                         "`python -m core demo-data`."), icon=":material/api:")
        st.page_link(ui.page_file("imports"), label=_("Import an OpenAPI document"), icon=":material/upload_file:")
        return
    scene = pick_scene(scenes_all)
    chosen = pick_cases(scene["id"])
    if chosen:
        launch_bar(chosen, scene["id"])


launch_page()
