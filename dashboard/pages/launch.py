"""Launch: pick a scene (by module) and one or many test cases; each becomes a queued task at once."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui

PRIORITY_LABELS = {0: "0 · lowest", 3: "3 · low", 5: "5 · normal", 7: "7 · high", 9: "9 · urgent"}

actor = ui.require_actor()
st.title("Launch")
st.caption("Each selected test case becomes one task; it is queued at once and runs in the background.")

if not actor.can_operate:
    st.info("Viewers can follow tasks but not launch them. Ask an admin for the engineer role.", icon=":material/lock:")
    st.stop()

for launched in st.session_state.pop("launched", []):
    with st.container(border=True, horizontal=True, vertical_alignment="center"):
        st.markdown(f":material/check_circle: Queued **#{launched['task_id']}** {launched['name']}")
        ui.page_link_to_task(launched["task_id"], label="Open task", icon=":material/open_in_new:")

modules = service.list_modules()
scenes_all = service.list_scenes()
if not scenes_all:
    ui.empty_state("No scenes yet. Import an OpenAPI document (Library → Import) or run `python -m core demo-data`.",
                   icon=":material/api:")
    st.stop()

left, right = st.columns([1, 2.4])
module = left.selectbox("Module", ["", *modules], key="launch_module",
                        format_func=lambda m: m or f"All modules ({len(scenes_all)} scenes)")
scenes = service.list_scenes(module or None)
by_id = {scene["id"]: scene for scene in scenes}
scene_id = right.selectbox(
    "Scene", list(by_id), key="launch_scene",
    format_func=lambda i: f"{i} · {by_id[i]['name']} — {by_id[i]['method']} {by_id[i]['path']}")
scene = by_id[scene_id]
with st.container(border=True):
    st.markdown(f"`{scene['method']} {scene['path']}` &nbsp; **{scene['name']}** :gray-badge[{scene['module']}] "
                f":gray-badge[{scene['fields']} body fields]")
    if scene["summary"]:
        st.caption(scene["summary"])

st.subheader("Test cases")
search_col, scope_col = st.columns([2.4, 1], vertical_alignment="bottom")
search = search_col.text_input("Search", key="launch_search", placeholder="Title, steps or expected result…",
                               max_chars=service.MAX_SEARCH,
                               label_visibility="collapsed", icon=":material/search:")
linked_only = scope_col.toggle("Only cases linked to this scene", value=True, key="launch_linked")
cases = service.list_test_cases(search=search or None, scene_id=scene_id if linked_only else None, limit=200)
if not cases:
    hint = "Turn off “Only cases linked to this scene” to pick any case." if linked_only else "Clear the search."
    ui.empty_state(f"No test case matches. {hint}", icon=":material/search_off:")
    st.stop()

picker = st.dataframe(
    pd.DataFrame({
        "id": [c["id"] for c in cases], "title": [c["title"] for c in cases], "module": [c["module"] for c in cases],
        "priority": [c["priority"] for c in cases], "expected": [c["expected_result"] for c in cases],
    }),
    key=f"launch_pick_{scene_id}_{linked_only}_{search}_{st.session_state.get('launch_round', 0)}", on_select="rerun", selection_mode="multi-row",
    hide_index=True, row_height=34, column_config={
        "id": st.column_config.NumberColumn("#", format="%d", width=50),
        "title": st.column_config.TextColumn("Title", width=330),
        "module": st.column_config.TextColumn("Module", width=90),
        "priority": st.column_config.TextColumn("Case priority", width=100),
        "expected": st.column_config.TextColumn("Expected result"),
    },
)
chosen = [cases[row] for row in picker["selection"]["rows"]]
st.caption(f"{len(chosen)} of {len(cases)} selected · select several rows to launch one task each")

if chosen:
    st.subheader("Tasks to launch")
    names = st.data_editor(
        pd.DataFrame({"case": [f"#{c['id']}" for c in chosen], "name": [c["title"] for c in chosen]}),
        key="launch_names_" + "_".join(str(c["id"]) for c in chosen), hide_index=True, disabled=["case"],
        column_config={"case": st.column_config.TextColumn("Case", width=70),
                       "name": st.column_config.TextColumn("Task name (editable)", required=True, width="large")},
    )
    priority = st.select_slider("Priority", options=list(range(10)), value=5, key="launch_priority",
                                format_func=lambda p: PRIORITY_LABELS.get(p, str(p)),
                                help="Workers take higher priorities first, then the oldest task.")
    if st.button(f"Launch {len(chosen)} task{'s' if len(chosen) != 1 else ''}", type="primary",
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
