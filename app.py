"""CaseFlow's Streamlit entry point: starts this process's worker once and serves the pages."""

from __future__ import annotations

import streamlit as st

from core.config import get_settings
from core.scheduler import Worker, in_process_worker

st.set_page_config(page_title="CaseFlow", page_icon=":material/account_tree:", layout="wide")


@st.cache_resource(show_spinner=False)
def _worker() -> Worker | None:
    """The in-process scheduler: started once per server process, never by a page rerun."""
    return in_process_worker() if get_settings().run_scheduler else None


_worker()
navigation = st.navigation([st.Page("pages/tasks.py", title="Tasks", icon=":material/list_alt:", default=True)])
navigation.run()
