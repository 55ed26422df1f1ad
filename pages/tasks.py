"""Tasks: the newest tasks and their progress (the full dashboard comes with the dashboard issue)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import service

st.title("Tasks")


@st.fragment(run_every=2)
def task_table() -> None:
    page = service.list_tasks(limit=50)
    st.caption(f"{page['total']} tasks")
    if not page["items"]:
        st.info("No tasks yet. Start one with `python -m core start --test-case 1 --scene SC001`.")
        return
    frame = pd.DataFrame(page["items"])[["id", "name", "status", "progress", "current_step", "user", "created_at"]]
    st.dataframe(
        frame,
        hide_index=True,
        column_config={"progress": st.column_config.ProgressColumn("Progress", min_value=0, max_value=100)},
    )


task_table()
