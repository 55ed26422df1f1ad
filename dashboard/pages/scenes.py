"""Scenes: the API operations, with a readable view of their request and response schemas."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui

ui.require_actor()


def pick_scene() -> dict[str, Any] | None:
    """The filters and the table; the selected scene with its schemas, if any."""
    search_column, module_column = st.columns([2, 1])
    search = search_column.text_input("Search", placeholder="id, name or path", key="scenes_search")
    module = module_column.selectbox("Module", [None, *service.list_modules("scenes")],
                                     format_func=lambda m: m or "All", key="scenes_module")
    scenes = service.list_scenes(module, search=search)
    if not scenes:
        ui.empty_state("No scenes. Import an OpenAPI document on the Import page.", icon=":material/api:")
        return None
    table = pd.DataFrame(scenes)[["id", "method", "path", "name", "module", "source", "test_cases"]]
    picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="scenes_table")
    if not picked.selection.rows:
        st.caption("Select a scene to see its schemas.")
        return None
    return service.get_scene(scenes[picked.selection.rows[0]]["id"])


def heading(scene: dict[str, Any]) -> None:
    st.header(f"{scene['method']} {ui.escape(scene['path'])}")
    origin = scene["source"] or "added by hand"
    st.caption(ui.escape(f"{scene['id']} · {scene['module']} · {origin} · updated {scene['updated_at']}"))
    if scene["summary"]:
        st.text(scene["summary"])


def request_body(scene: dict[str, Any]) -> None:
    if not scene["request_fields"]:
        ui.empty_state("This operation takes no request body.")
        return
    st.dataframe(pd.DataFrame(scene["request_fields"]), hide_index=True)
    with st.expander("JSON Schema"):
        st.json(scene["request_schema"])


def parameters(scene: dict[str, Any]) -> None:
    if not scene["parameter_fields"]:
        ui.empty_state("No path or query parameters.")
        return
    st.dataframe(pd.DataFrame(scene["parameter_fields"]), hide_index=True)


def responses(scene: dict[str, Any]) -> None:
    for code, response in scene["responses"].items():
        st.subheader(ui.escape(f"{code} {response.get('description', '')}"))
        if response["fields"]:
            st.dataframe(pd.DataFrame(response["fields"]), hide_index=True)
        else:
            st.caption("No JSON body documented.")


def test_cases(scene: dict[str, Any]) -> None:
    if not scene["test_cases"]:
        st.caption("No test case links to this scene yet.")
        return
    st.dataframe(pd.DataFrame(scene["test_cases"]), hide_index=True)


def scenes_page() -> None:
    st.title("Scenes")
    scene = pick_scene()
    if scene is None:
        return
    heading(scene)
    tabs = st.tabs(["Request body", f"Parameters ({len(scene['parameters'])})",
                    f"Responses ({len(scene['responses'])})", f"Test cases ({len(scene['test_cases'])})"])
    for tab, render in zip(tabs, (request_body, parameters, responses, test_cases), strict=True):
        with tab:
            render(scene)


scenes_page()
