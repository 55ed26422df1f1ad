"""The first-run guide: on an empty library, what CaseFlow works with and the three steps to a first case.

Shown at the top of the Tasks page (the home page) until the first scene or test case exists.
"""

from __future__ import annotations

import streamlit as st

from core import service
from core.service import Actor
from dashboard import ui
from dashboard.i18n import _


def guide(actor: Actor) -> None:
    """The guide, when the library is empty; nothing otherwise."""
    if added := st.session_state.pop("demo_loaded", None):
        st.toast(_("Demo loaded: {scenes} scenes, {test_cases} test cases", scenes=added["scenes"],
                   test_cases=added["test_cases"]),
                 icon=":material/check_circle:")
    if not service.library_is_empty():
        return
    with st.container(border=True, key="first_run_guide"):
        st.markdown("### :material/waving_hand: " + _("Welcome to CaseFlow"))
        st.markdown(_("CaseFlow turns manual test cases into API automation cases, with a human review "
                      "before each case is written. It works with two things:"))
        scene, case = st.columns(2)
        scene.markdown(":material/api: " + _("**A scene** is one API operation: its method, path and the JSON "
                                             "Schema of its request body, imported from an OpenAPI document."))
        case.markdown(":material/checklist: " + _(
            "**A test case** is a manual test as a QA engineer writes it: "
            "title, preconditions, steps and expected result, linked to a scene."))
        st.markdown(_("**1.** Import your OpenAPI document and test cases (CSV or XLSX), or load the demo. "
                      "**2.** Launch a task per test case. **3.** Review the generated rows; approving them "
                      "creates the automation case."))
        if not actor.can_operate:
            st.caption(_("Engineers and admins import and launch; ask one to add the first scenes."))
            return
        with st.container(horizontal=True):
            if st.button(_("Load the demo data"), icon=":material/download:", type="primary", key="load_demo"):
                done, added = ui.attempt(lambda: service.load_demo_data(user=actor.username))
                if done and added is not None:
                    st.session_state["demo_loaded"] = added
                    st.rerun()
            st.page_link(ui.page_file("imports"), label=_("Import your own"), icon=":material/upload_file:")
            st.page_link(ui.page_file("launch"), label=_("Launch"), icon=":material/rocket_launch:")
