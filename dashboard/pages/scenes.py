"""Scenes: the API operations, with a readable view of their request and response schemas."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui
from dashboard.i18n import N_, _

COLUMNS = {  # the headers of the scene list and of the field tables
    "id": N_("Scene"), "method": N_("Method"), "path": N_("Path"), "name": N_("Name"), "module": N_("Module"),
    "source": N_("Source document"), "test_cases": N_("Test cases"), "updated": N_("Updated"),
    "field": N_("Field"), "type": N_("Type"), "required": N_("Required"), "constraints": N_("Constraints"),
    "description": N_("Description"), "in": N_("In"), "example": N_("Example"), "title": N_("Title"),
    "priority": N_("Priority"),
}

actor = ui.require_actor()


def headers() -> dict[str, str]:
    return {column: _(label) for column, label in COLUMNS.items()}


def pick_scene() -> dict[str, Any] | None:
    """The filters and the table; the selected scene with its schemas, if any."""
    search_column, module_column = st.columns([2, 1])
    search = search_column.text_input(_("Search"), placeholder=_("id, name or path"), key="scenes_search")
    module = module_column.selectbox(_("Module"), [None, *service.list_modules("scenes")],
                                     format_func=lambda m: m or _("All"), key="scenes_module")
    scenes = service.list_scenes(module, search=search)
    if not scenes:
        empty(bool(search or module))
        return None
    table = pd.DataFrame(scenes)[["id", "method", "path", "name", "module", "source", "test_cases"]]
    table["updated"] = [ui.local_time(scene["updated_at"], seconds=False) for scene in scenes]
    picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="scenes_table",
                          column_config={**headers(), "updated": _("Updated ({zone})", zone=ui.zone_name())})
    if not picked.selection.rows:
        st.caption(_("Select a scene to see its schemas."))
        return None
    return service.get_scene(scenes[picked.selection.rows[0]]["id"])


def empty(filtered: bool) -> None:
    """No scene to list: what to do next."""
    if filtered:
        ui.empty_state(_("No scene matches. Clear the search or pick another module."), icon=":material/search_off:")
        return
    ui.empty_state(_("No scenes yet. Every operation of an imported OpenAPI document becomes a scene."),
                   icon=":material/api:")
    if actor.can_operate:
        st.page_link(ui.page_file("imports"), label=_("Import an OpenAPI document"), icon=":material/upload_file:")


def heading(scene: dict[str, Any]) -> None:
    st.header(f"{scene['method']} {ui.escape(scene['path'])}")
    origin = scene["source"] or _("added by hand")
    st.caption(ui.escape(f"{scene['id']} · {scene['module']} · {origin} · ")
               + _("updated {at}", at=ui.local_time(scene["updated_at"])))
    if scene["summary"]:
        st.text(scene["summary"])


def request_body(scene: dict[str, Any]) -> None:
    if not scene["request_fields"]:
        ui.empty_state(_("This operation takes no request body."))
        return
    st.dataframe(pd.DataFrame(scene["request_fields"]), hide_index=True, column_config=headers())
    with st.expander("JSON Schema"):
        st.json(scene["request_schema"])


def parameters(scene: dict[str, Any]) -> None:
    if not scene["parameter_fields"]:
        ui.empty_state(_("No path or query parameters."))
        return
    st.dataframe(pd.DataFrame(scene["parameter_fields"]), hide_index=True, column_config=headers())


def responses(scene: dict[str, Any]) -> None:
    for code, response in scene["responses"].items():
        st.subheader(ui.escape(f"{code} {response.get('description', '')}"))
        if response["fields"]:
            st.dataframe(pd.DataFrame(response["fields"]), hide_index=True, column_config=headers())
        else:
            st.caption(_("No JSON body documented."))


def test_cases(scene: dict[str, Any]) -> None:
    if not scene["test_cases"]:
        st.caption(_("No test case links to this scene yet: pick this scene when you create or edit one."))
        st.page_link(ui.page_file("test_cases"), label=_("Test cases"), icon=":material/checklist:")
        return
    st.dataframe(pd.DataFrame(scene["test_cases"]), hide_index=True,
                 column_config={**headers(), "id": st.column_config.NumberColumn("#", format="%d", width=50)})
    if actor.can_operate:
        st.page_link(ui.page_file("launch"), label=_("Launch workflows"), icon=":material/rocket_launch:")


def scenes_page() -> None:
    st.title(_("Scenes"))
    scene = pick_scene()
    if scene is None:
        return
    heading(scene)
    tabs = st.tabs([_("Request body"), _("Parameters ({count})", count=len(scene["parameters"])),
                    _("Responses ({count})", count=len(scene["responses"])),
                    _("Test cases ({count})", count=len(scene["test_cases"]))])
    for tab, render in zip(tabs, (request_body, parameters, responses, test_cases), strict=True):
        with tab:
            render(scene)


scenes_page()
