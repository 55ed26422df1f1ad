"""Scenes: the API operations, with a readable view of their request and response schemas."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import service
from core.library import catalog as library
from dashboard import ui

st.title("Scenes")
username = ui.require_actor().username

search_column, module_column = st.columns([2, 1])
search = search_column.text_input("Search", placeholder="id, name or path", key="scenes_search",
                                  max_chars=service.MAX_SEARCH)
module = module_column.selectbox("Module", [None, *library.modules("scenes")], format_func=lambda m: m or "All",
                                 key="scenes_module")
scenes = library.list_scenes(search=search, module=module)
if not scenes:
    st.info("No scenes. Import an OpenAPI document on the Import page.")
    st.stop()

table = pd.DataFrame(scenes)[["id", "method", "path", "name", "module", "source", "test_cases"]]
picked = st.dataframe(table, hide_index=True, on_select="rerun",
                      selection_mode="single-row", key="scenes_table")
if not picked.selection.rows:
    st.caption("Select a scene to see its schemas.")
    st.stop()

scene = library.get_scene(scenes[picked.selection.rows[0]]["id"])
st.header(f"{scene['method']} {scene['path']}")
origin = scene["source"] or "added by hand"
st.caption(f"{scene['id']} · {scene['module']} · {origin} · updated {scene['updated_at']}")
if scene["summary"]:
    st.write(scene["summary"])

body_tab, parameters_tab, responses_tab, cases_tab = st.tabs(
    ["Request body", f"Parameters ({len(scene['parameters'])})", f"Responses ({len(scene['responses'])})",
     f"Test cases ({len(scene['test_cases'])})"])
with body_tab:
    if scene["request_fields"]:
        st.dataframe(pd.DataFrame(scene["request_fields"]), hide_index=True)
        with st.expander("JSON Schema"):
            st.json(scene["request_schema"])
    else:
        st.info("This operation takes no request body.")
with parameters_tab:
    if scene["parameter_fields"]:
        st.dataframe(pd.DataFrame(scene["parameter_fields"]), hide_index=True)
    else:
        st.info("No path or query parameters.")
with responses_tab:
    for code, response in scene["responses"].items():
        st.subheader(f"{code} {response.get('description', '')}")
        if response["fields"]:
            st.dataframe(pd.DataFrame(response["fields"]), hide_index=True)
        else:
            st.caption("No JSON body documented.")
with cases_tab:
    if scene["test_cases"]:
        st.dataframe(pd.DataFrame(scene["test_cases"]), hide_index=True)
    else:
        st.caption("No test case links to this scene yet.")
