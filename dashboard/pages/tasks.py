"""Tasks: a live table (a fragment refreshing every 2 s), filters kept in the URL, paging, bulk cancel and retry."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import first_run, i18n, ui
from dashboard.i18n import _, _n

PAGE_SIZE = 25
REFRESH_SECONDS = 2
GRID = "tasks_grid"  # the dataframe's key: its row selection
OPEN = "tasks_open"  # the ID button column's key: the clicked row
SHOWN = "tasks_shown_ids"  # task ids of the rows on screen, in order

actor = ui.require_actor()


def reset_page() -> None:
    st.session_state["page"] = 1


def current_page() -> int:
    raw = st.session_state.get("page") or st.query_params.get("page") or 1
    try:
        return max(int(raw), 1)
    except (TypeError, ValueError):
        return 1


def open_clicked() -> None:
    click = st.session_state.get(OPEN)
    shown = st.session_state.get(SHOWN, [])
    if click is not None and 0 <= click["row"] < len(shown):
        st.session_state["open_task"] = shown[click["row"]]


def selected_ids(shown_before: list[int]) -> list[int]:
    state = st.session_state.get(GRID)
    if state is None:
        return []
    rows = state["selection"]["rows"]
    return [shown_before[r] for r in rows if 0 <= r < len(shown_before)]


def keep_selection(previous: list[int], ids: list[int]) -> list[int]:
    """Keeps the selection on the same tasks when rows move (new tasks arrive on top)."""
    if st.session_state.pop("clear_selection", False):
        st.session_state[GRID] = {"selection": {"rows": []}}
        return []
    chosen = selected_ids(previous)
    positions = [index for index, task_id in enumerate(ids) if task_id in chosen]
    state = st.session_state.get(GRID)
    if state is not None and positions != list(state["selection"]["rows"]):
        st.session_state[GRID] = {"selection": {"rows": positions}}
    return [ids[p] for p in positions]


def counts_line() -> str:
    counts = service.task_counts()
    return "  ".join(f":{ui.STATUS_BADGE[s]}-badge[{ui.STATUS_ICON[s]} {ui.status_text(s)} "
                     f"**{ui.count_text(counts[s])}**]" for s in ui.STATUSES)


def frame_of(items: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({
        "open": [f"#{item['id']}" for item in items],
        "name": [item["name"] or item["thread_id"] for item in items],
        "status": [[item["status"]] for item in items],
        "progress": [item["progress"] for item in items],
        "step": [i18n.text(service.step_position(item["current_step"], item["status"])) for item in items],
        "owner": [item["user"] for item in items],
        "priority": [item["priority"] for item in items],
        "created": pd.to_datetime([item["created_at"] for item in items], utc=True),
        "scene": [item["scene_id"] for item in items],
    })


def columns() -> dict[str, Any]:
    return {
        "open": st.column_config.ButtonColumn("ID", type="tertiary", on_click=open_clicked, key=OPEN, pinned=True,
                                              width=70, help=_("Open the task")),
        "name": st.column_config.TextColumn(_("Name"), width=215),
        "status": st.column_config.MultiselectColumn(
            _("Status"), options=list(ui.STATUSES), color=[ui.STATUS_HEX[s] for s in ui.STATUSES], width=105,
            format_func=ui.status_text),
        "progress": st.column_config.ProgressColumn(_("Progress"), min_value=0, max_value=100, format="%d%%",
                                                    width=100),
        "step": st.column_config.TextColumn(_("Current step"), width=165),
        "owner": st.column_config.TextColumn(_("Owner"), width=75),
        "priority": st.column_config.NumberColumn(_("Prio"), format="%d", width=55,
                                                  help=_("Priority 0-9; 9 runs first")),
        "created": st.column_config.DatetimeColumn(_("Age"), format="distance", width=118),
        "scene": st.column_config.TextColumn(_("Scene"), width=60),
    }


@st.fragment(run_every=REFRESH_SECONDS)
def live_table(filters: dict[str, Any], filtered: bool) -> None:
    if (task_id := st.session_state.pop("open_task", None)) is not None:
        st.switch_page(ui.page_file("task"), query_params={"task": str(task_id)})
    st.markdown(counts_line())
    page = current_page()
    ok, result = ui.attempt(lambda: service.list_tasks(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters))
    if not ok or result is None:
        return
    pages = max(math.ceil(result["total"] / PAGE_SIZE), 1)
    if page > pages:  # the filters or the cleanup shrank the list under the page the URL names
        st.session_state["page"] = page = pages
        result = service.list_tasks(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters)
    items = result["items"]
    if not items:
        if filtered:
            ui.empty_state(_("No task matches these filters. Widen the date range or clear the filters."),
                           icon=":material/filter_alt_off:")
        elif actor.can_operate:
            ui.empty_state(_("No tasks yet. Launch one: pick a scene and test cases on the Launch page."),
                           icon=":material/rocket_launch:")
            st.page_link(ui.page_file("launch"), label=_("Launch a workflow"), icon=":material/rocket_launch:")
        else:
            ui.empty_state(_("No tasks yet. Engineers launch them; they appear here as soon as they are queued."))
        return
    ids = [item["id"] for item in items]
    chosen = keep_selection(st.session_state.get(SHOWN, []), ids) if actor.can_operate else []
    st.session_state[SHOWN] = ids
    if actor.can_operate:
        bulk_bar(chosen, {item["id"]: item for item in items})
    first = (page - 1) * PAGE_SIZE + 1
    st.dataframe(
        frame_of(items), key=GRID, hide_index=True, column_config=columns(),
        on_select="rerun" if actor.can_operate else "ignore", selection_mode="multi-row",
        row_height=36, placeholder="—",
    )
    left, right = st.columns([3, 2], vertical_alignment="center")
    total = ui.count_text(result["total"], capped=result["total_capped"])  # "1,000+": counts stop there
    left.caption(_("{first}–{last} of {total} tasks · newest first · refreshes every {seconds} s", first=first,
                   last=first + len(items) - 1, total=total, seconds=REFRESH_SECONDS))
    with right:
        st.pagination(pages, default=min(page, pages), key="page", bind="query-params", width="stretch")


def bulk_bar(chosen: list[int], shown: dict[int, dict[str, Any]]) -> None:
    cancellable = [i for i in chosen if shown[i]["status"] in ui.CANCELLABLE]
    retryable = [i for i in chosen if shown[i]["status"] in ui.RETRYABLE]
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        if st.button(_("Cancel {count}", count=len(cancellable)) if chosen else _("Cancel"), icon=":material/block:",
                     disabled=not cancellable, key="bulk_cancel"):
            st.session_state["bulk"] = {"action": "cancel", "ids": cancellable}
            st.rerun()
        if st.button(_("Retry {count}", count=len(retryable)) if chosen else _("Retry"), icon=":material/replay:",
                     disabled=not retryable, key="bulk_retry"):
            st.session_state["bulk"] = {"action": "retry", "ids": retryable}
            st.rerun()
        if chosen and st.button(_("Clear selection"), type="tertiary", key="bulk_clear"):
            st.session_state["clear_selection"] = True
            st.rerun(scope="fragment")
        st.caption(_("{count} selected", count=len(chosen)) if chosen
                   else _("Select rows to cancel or retry several tasks at once."))


def forget_bulk() -> None:
    st.session_state.pop("bulk", None)


@st.dialog(_("Confirm"), on_dismiss=forget_bulk)
def confirm_bulk(action: str, ids: list[int]) -> None:
    if action == "cancel":
        question = _n("Cancel {count} task?", "Cancel {count} tasks?", len(ids), count=len(ids))
    else:
        question = _n("Retry {count} task?", "Retry {count} tasks?", len(ids), count=len(ids))
    st.markdown(f"**{question}**")
    st.caption(", ".join(f"#{i}" for i in ids))
    st.caption(_("Cancelling stops a running task at its next step. Retrying resumes a task from its last "
                 "checkpoint."))
    left, right = st.columns(2)
    verb = _("Cancel {count}", count=len(ids)) if action == "cancel" else _("Retry {count}", count=len(ids))
    if left.button(verb, type="primary", width="stretch", key="bulk_confirm"):
        run = service.cancel_tasks if action == "cancel" else service.retry_tasks
        ok, outcomes = ui.attempt(lambda: run(ids, user=actor.username))
        if ok:
            st.session_state["bulk_outcome"] = {"action": action, "outcomes": outcomes}
            st.session_state["clear_selection"] = True
            forget_bulk()
            st.rerun()
    if right.button(_("Keep them"), width="stretch", key="bulk_keep"):
        forget_bulk()
        st.rerun()


def show_outcome(outcome: dict[str, Any]) -> None:
    done = [o for o in outcome["outcomes"] if o["ok"]]
    refused = [o for o in outcome["outcomes"] if not o["ok"]]
    if done:
        ids = ", ".join(f"#{o['task_id']}" for o in done)
        if outcome["action"] == "cancel":
            told = _n("Cancelled {count} task: {ids}", "Cancelled {count} tasks: {ids}", len(done), count=len(done),
                      ids=ids)
        else:
            told = _n("Requeued {count} task: {ids}", "Requeued {count} tasks: {ids}", len(done), count=len(done),
                      ids=ids)
        st.toast(told, icon=":material/done_all:")
    for item in refused:
        st.warning(f"#{item['task_id']}: {ui.escape(i18n.text(item['message']))}", icon=":material/warning:")


def go_to_task() -> None:
    raw = str(st.session_state.get("goto", "")).strip().lstrip("#")
    st.session_state["goto"] = ""
    if raw.isdigit():
        st.session_state["open_task"] = int(raw)


first_run.guide(actor)
head, goto = st.columns([4, 1], vertical_alignment="bottom")
head.title(_("Tasks"))
goto.text_input(_("Open task"), key="goto", placeholder=_("Task # and Enter"), on_change=go_to_task,
                label_visibility="collapsed")

owners = service.usernames()
f_status, f_owner, f_dates, f_search = st.columns([2.2, 1.3, 1.6, 2.2])
statuses = f_status.multiselect(
    _("Status"), list(ui.STATUSES), key="status", bind="query-params", on_change=reset_page,
    placeholder=_("Any status"), format_func=ui.status_text)
owner = f_owner.selectbox(
    _("Owner"), ["", *owners], key="owner", bind="query-params", on_change=reset_page,
    format_func=lambda name: _("Anyone") if not name else (_("{name} (me)", name=name) if name == actor.username
                                                           else name))
picked = f_dates.date_input(_("Created"), value=(), key="created", bind="query-params", on_change=reset_page,
                            format="YYYY-MM-DD")
search = f_search.text_input(_("Search"), key="q", bind="query-params", on_change=reset_page,
                             placeholder=_("Name, thread id, scene, test case…"))
created_from, created_to = ui.day_range(picked)
filters = {"status": statuses or None, "user": owner or None, "search": search or None,
           "created_from": created_from, "created_to": created_to}
if outcome := st.session_state.pop("bulk_outcome", None):
    show_outcome(outcome)
live_table(filters, any(value for value in filters.values()))
if bulk := st.session_state.get("bulk"):
    confirm_bulk(bulk["action"], bulk["ids"])
