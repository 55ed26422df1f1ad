"""Shared dashboard pieces: the one status palette, the signed-in user, times, errors, the in-process worker.

Not a page itself: app.py registers the pages explicitly, and they import this module.
"""

from __future__ import annotations

import atexit
import math
from collections.abc import Callable
from datetime import UTC, datetime, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import service
from core.accounts.users import Actor
from core.config import get_settings
from core.errors import CaseFlowError, NotFound
from core.tasks.worker import Worker, in_process_worker, stop_in_process_worker
from core.workflow.steps import AWAITING_REVIEW, CASE_CREATED, STEP_BY_NODE

T = TypeVar("T")

STATUSES = ("pending", "processing", "reviewing", "completed", "failed", "cancelled")  # db.models.TaskStatus

STATUS_BADGE = {  # st.badge / markdown badge colour names
    "pending": "gray",
    "processing": "blue",
    "reviewing": "orange",
    "completed": "green",
    "failed": "red",
    "cancelled": "violet",
}
STATUS_HEX = {  # the same colours for grids and charts
    "pending": "#8a94a6",
    "processing": "#2f80ed",
    "reviewing": "#e8912d",
    "completed": "#27a060",
    "failed": "#d9434d",
    "cancelled": "#8d6fc6",
}
STATUS_ICON = {
    "pending": ":material/schedule:",
    "processing": ":material/autorenew:",
    "reviewing": ":material/rate_review:",
    "completed": ":material/check_circle:",
    "failed": ":material/error:",
    "cancelled": ":material/block:",
}
TONE = {  # explain_task tones -> callout
    "info": st.info, "progress": st.info, "warning": st.warning, "error": st.error, "success": st.success,
}
ROLE_BADGE = {"admin": "violet", "engineer": "blue", "viewer": "gray"}

PAGES = {  # page files; their addresses (url paths) are the keys, deliberately unlike the file names (see app.py)
    "tasks": "dashboard/pages/tasks.py",
    "task": "dashboard/pages/task.py",
    "launch": "dashboard/pages/launch.py",
    "review": "dashboard/pages/review.py",
    "metrics": "dashboard/pages/metrics.py",
    "settings": "dashboard/pages/settings.py",
}


def _stop(worker: Worker | None) -> None:
    """Stops this process's worker once its running steps finish, so the workers table says "stopped"."""
    if worker is not None:
        stop_in_process_worker()


@st.cache_resource(show_spinner=False, on_release=_stop)
def start_worker() -> Worker | None:
    """The in-process scheduler: started once per server process, never by a page rerun.

    Stopped (and marked stopped in the workers table) when the server exits or the cache is cleared.
    """
    if not get_settings().run_scheduler:
        return None
    worker = in_process_worker()
    atexit.register(_stop, worker)
    return worker


# --- the signed-in user -----------------------------------------------------------------


def actor() -> Actor | None:
    return st.session_state.get("actor")


def refresh_actor() -> Actor | None:
    """The signed-in user as the database has them now; signs out a user who was removed or deactivated."""
    current = actor()
    if current is None:
        return None
    try:
        fresh = service.current_actor(current.username)
    except NotFound:
        sign_out()
        st.session_state["signed_out_reason"] = "Your account was deactivated; ask an admin."
        return None
    st.session_state["actor"] = fresh
    return fresh


def require_actor() -> Actor:
    """The signed-in user. app.py shows only the sign-in page to anyone else, so this is a second lock.

    Streamlit runs a requested page file directly (without app.py) when a server's very first
    visit asks for a sub-path: its old pages/ directory mode, left on until some script calls
    st.navigation. Such a visitor is sent to app.py, which signs them in and switches the mode off.
    """
    current = actor()
    if current is None:
        try:
            st.switch_page("app.py")
        except StreamlitAPIException:
            pass
        st.stop()
    return current


def sign_in(signed_in: Actor) -> None:
    st.session_state["actor"] = signed_in
    st.session_state["last_event_id"] = service.latest_event_id()
    st.session_state["notifications"] = []


def sign_out() -> None:
    for key in ("actor", "last_event_id", "notifications"):
        st.session_state.pop(key, None)


# --- statuses ---------------------------------------------------------------------------


def status_badge(status: str) -> str:
    """Markdown for a coloured status badge, e.g. ":orange-badge[:material/rate_review: reviewing]"."""
    return f":{STATUS_BADGE.get(status, 'gray')}-badge[{STATUS_ICON.get(status, '')} {status}]"


def step_text(current_step: str | None, status: str | None = None) -> str:
    """"4/10 · Generate request bodies" for the last finished step."""
    if current_step == AWAITING_REVIEW:
        return "9/10 · Human review"
    if current_step == CASE_CREATED:
        return "10/10 · Case created"
    step = STEP_BY_NODE.get(current_step or "")
    if step is None:
        return "Queued" if status == "pending" else "—"
    return f"{step.number}/10 · {step.label}"


# --- times ------------------------------------------------------------------------------


def browser_zone() -> ZoneInfo | timezone:
    name = st.context.timezone
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def zone_name() -> str:
    return st.context.timezone or "UTC"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_time(value: str | None, *, seconds: bool = True) -> str:
    """An API timestamp in the browser's time zone: "2026-02-05 18:30:00"."""
    moment = parse_time(value)
    if moment is None:
        return "—"
    return moment.astimezone(browser_zone()).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def duration_text(seconds: float | None, *, compact: bool = False) -> str:
    """1.2 s, 3 min 20 s, 2 h 5 min, 3 d 4 h; compact: 1.2s, 3m 20s, 2h 05m, 3d 4h."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    if seconds < 60:
        text = f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
        return text.replace(" ", "") if compact else text
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        if compact:
            return f"{minutes}m {secs:02d}s"
        return f"{minutes} min {secs} s" if secs and minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if compact:
            return f"{hours}h {minutes:02d}m"
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    if compact:
        return f"{days}d {hours}h"
    return f"{days} d {hours} h" if hours else f"{days} d"


def age_text(value: str | None) -> str:
    moment = parse_time(value)
    if moment is None:
        return "—"
    return duration_text(max((datetime.now(UTC) - moment).total_seconds(), 0))


# --- errors -----------------------------------------------------------------------------


def attempt(action: Callable[[], T]) -> tuple[bool, T | None]:
    """Runs a service call: (True, its result), or (False, None) after showing its error as a message.

    Every CaseFlowError reaches the user as its message; never a traceback.
    """
    try:
        return True, action()
    except CaseFlowError as error:
        st.error(error.message, icon=":material/error:")
        return False, None


def page_link_to_task(task_id: int, label: str | None = None, **kwargs: Any) -> None:
    st.page_link(PAGES["task"], label=label or f"Task #{task_id}", query_params={"task": str(task_id)}, **kwargs)


def query_int(name: str) -> int | None:
    """An integer query parameter, or None when absent or not a number."""
    raw = st.query_params.get(name)
    if raw is None or not str(raw).strip().lstrip("#").isdigit():
        return None
    return int(str(raw).strip().lstrip("#"))


def empty_state(message: str, icon: str = ":material/inbox:") -> None:
    st.info(message, icon=icon)
