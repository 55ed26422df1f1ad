"""Shared dashboard pieces: the page table, the one status palette, the signed-in user, user text, times, errors.

Not a page itself: app.py registers the pages listed in PAGES, and they import this module.
Every string shown goes through dashboard.i18n (``_``); times are in the user's time zone.
"""

from __future__ import annotations

import atexit
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePosixPath
from typing import Any, TypeVar

import streamlit as st

from core import service
from core.service import Actor, CaseFlowError, Role, TaskStatus
from dashboard import i18n
from dashboard.i18n import N_, _

T = TypeVar("T")

STATUSES = tuple(status.value for status in TaskStatus)
TERMINAL = tuple(status.value for status in TaskStatus.terminal())
CANCELLABLE = tuple(status for status in STATUSES if status not in TERMINAL)
RETRYABLE = (TaskStatus.FAILED.value, TaskStatus.CANCELLED.value)
"""What a retry accepts: a completed task is final."""
RUNNING = (TaskStatus.PENDING.value, TaskStatus.PROCESSING.value)
"""A worker has or will soon have the task: it settles by itself."""

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
STATUS_LABEL = {  # what a status is called on screen; the value itself is the specification's
    "pending": N_("pending"),
    "processing": N_("processing"),
    "reviewing": N_("reviewing"),
    "completed": N_("completed"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
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
ROLE_LABEL = {"admin": N_("admin"), "engineer": N_("engineer"), "viewer": N_("viewer")}


def count_text(count: int, *, capped: bool = False) -> str:
    """A task count as the pages show it: "10,000+" where counting stopped (``capped``, or over service.COUNT_CAP)."""
    return i18n.number(min(count, service.COUNT_CAP)) + ("+" if capped or count > service.COUNT_CAP else "")


# --- the pages --------------------------------------------------------------------------


def everyone(actor: Actor) -> bool:
    return True


def operators(actor: Actor) -> bool:
    return actor.can_operate


def admins(actor: Actor) -> bool:
    return actor.role is Role.ADMIN


@dataclass(frozen=True, kw_only=True)
class PageEntry:
    """One dashboard page: its file (relative to app.py) names its address, /<file name without .py>.

    ``title`` and ``section`` are message ids: app.py shows them in the user's language.
    """

    file: str
    title: str
    icon: str
    section: str
    who: Callable[[Actor], bool] = everyone
    hidden: bool = False  # reached by links only (a task's page)

    @property
    def address(self) -> str:
        return PurePosixPath(self.file).stem


PAGES: dict[str, PageEntry] = {entry.address: entry for entry in (
    PageEntry(file="dashboard/pages/tasks.py", title=N_("Tasks"), icon=":material/list_alt:",
              section=N_("Workflows")),
    PageEntry(file="dashboard/pages/launch.py", title=N_("Launch"), icon=":material/rocket_launch:",
              section=N_("Workflows"), who=operators),
    PageEntry(file="dashboard/pages/review.py", title=N_("Review"), icon=":material/rate_review:",
              section=N_("Workflows")),
    PageEntry(file="dashboard/pages/task.py", title=N_("Task"), icon=":material/description:",
              section=N_("Workflows"), hidden=True),
    PageEntry(file="dashboard/pages/test_cases.py", title=N_("Test cases"), icon=":material/checklist:",
              section=N_("Library")),
    PageEntry(file="dashboard/pages/scenes.py", title=N_("Scenes"), icon=":material/api:", section=N_("Library")),
    PageEntry(file="dashboard/pages/automation_cases.py", title=N_("Automation cases"),
              icon=":material/inventory_2:", section=N_("Library")),
    PageEntry(file="dashboard/pages/imports.py", title=N_("Import"), icon=":material/upload_file:",
              section=N_("Library"), who=operators),
    PageEntry(file="dashboard/pages/environments.py", title=N_("Environments"), icon=":material/dns:",
              section=N_("Library")),
    PageEntry(file="dashboard/pages/coverage.py", title=N_("Coverage"), icon=":material/grid_on:",
              section=N_("Insights")),
    PageEntry(file="dashboard/pages/metrics.py", title=N_("Metrics"), icon=":material/monitoring:",
              section=N_("Insights")),
    PageEntry(file="dashboard/pages/settings.py", title=N_("Settings"), icon=":material/settings:",
              section=N_("Admin"), who=admins),
)}
"""Every page, in menu order, with who may open it; app.py registers exactly these (Tasks at /)."""
HOME = "tasks"
SIGN_IN = "dashboard/pages/sign_in.py"


def page_file(address: str) -> str:
    """The file of the page at ``address``, for st.page_link and st.switch_page."""
    return PAGES[address].file


# --- the in-process worker --------------------------------------------------------------


def _stop(worker_id: str | None) -> None:
    """Stops this process's worker once its running steps finish, so the workers table says "stopped"."""
    if worker_id is not None:
        service.stop_embedded_worker()


@st.cache_resource(show_spinner=False, on_release=_stop)
def start_worker() -> str | None:
    """The in-process worker (when RUN_SCHEDULER says so): started once per server process, never by a rerun.

    Stopped (and marked stopped in the workers table) when the server exits or the cache is cleared.
    """
    worker_id = service.start_embedded_worker()
    if worker_id is not None:
        atexit.register(_stop, worker_id)
    return worker_id


# --- the signed-in user -----------------------------------------------------------------


def actor() -> Actor | None:
    return st.session_state.get("actor")


def require_actor() -> Actor:
    """The signed-in user. app.py runs no page but the sign-in form for anyone else: this is a second lock."""
    current = actor()
    if current is None:
        st.stop()
    return current


# --- user text --------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_LINE_BREAKS = re.compile(r"[\r\n]+")


def escape(text: object) -> str:
    """User text to put into markdown, shown exactly as typed: no bold, heading, link, image, math or directive.

    Streamlit parses markdown in st.markdown, captions, titles, callouts, toasts and in the
    labels of page links, expanders, tabs, buttons and metrics; CommonMark shows a
    backslash-escaped ASCII punctuation character as itself, and the escapes also break
    Streamlit's ``:red[...]`` and ``:material/...:`` directives. Line breaks become spaces
    (for multi-line text use st.text or st.code instead).
    """
    return _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))


# --- statuses ---------------------------------------------------------------------------


def status_text(status: str) -> str:
    """A status as the user's language calls it ("reviewing", "待评审")."""
    return _(STATUS_LABEL[status]) if status in STATUS_LABEL else status


def role_text(role: str) -> str:
    return _(ROLE_LABEL[role]) if role in ROLE_LABEL else role


def status_badge(status: str) -> str:
    """Markdown for a coloured status badge, e.g. ":orange-badge[:material/rate_review: reviewing]"."""
    return f":{STATUS_BADGE.get(status, 'gray')}-badge[{STATUS_ICON.get(status, '')} {status_text(status)}]"


# --- times ------------------------------------------------------------------------------


def zone_name() -> str:
    """The user's time zone (their choice, else the browser's), for column headers: "Asia/Shanghai"."""
    return i18n.zone_name()


def day_range(picked: Any) -> tuple[datetime | None, datetime | None]:
    """A date_input's days as [start of the first, start of the day after the last) in the user's zone.

    One day picked (a range half chosen) leaves the end open; nothing picked gives (None, None).
    """
    days = [day for day in (picked if isinstance(picked, (tuple, list)) else [picked]) if isinstance(day, date)]
    if not days:
        return None, None
    zone = i18n.zone()
    start = datetime.combine(days[0], time.min, tzinfo=zone)
    end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=zone) if len(days) > 1 else None
    return start, end


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_time(value: str | None, *, seconds: bool = True) -> str:
    """An API timestamp in the user's time zone and language: "Feb 5, 2026, 18:30:00", "2026年2月5日 18:30:00"."""
    moment = parse_time(value)
    if moment is None:
        return "—"
    return i18n.datetime_text(moment, seconds=seconds)


def duration_text(seconds: float | None, *, compact: bool = False) -> str:
    """1.2 s, 3 min 20 s, 2 h 5 min, 3 d 4 h; compact: 1.2s, 3m 20s, 2h 05m, 3d 4h."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    if seconds < 60:
        shown = f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}"
        return _("{seconds}s", seconds=shown) if compact else _("{seconds} s", seconds=shown)
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        if compact:
            return _("{minutes}m {seconds:02d}s", minutes=minutes, seconds=secs)
        if secs and minutes < 10:
            return _("{minutes} min {seconds} s", minutes=minutes, seconds=secs)
        return _("{minutes} min", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if compact:
            return _("{hours}h {minutes:02d}m", hours=hours, minutes=minutes)
        return _("{hours} h {minutes} min", hours=hours, minutes=minutes) if minutes else _("{hours} h", hours=hours)
    days, hours = divmod(hours, 24)
    if compact:
        return _("{days}d {hours}h", days=days, hours=hours)
    return _("{days} d {hours} h", days=days, hours=hours) if hours else _("{days} d", days=days)


def age_text(value: str | None) -> str:
    moment = parse_time(value)
    if moment is None:
        return "—"
    return duration_text(max((datetime.now(UTC) - moment).total_seconds(), 0))


# --- errors -----------------------------------------------------------------------------


def attempt(action: Callable[[], T]) -> tuple[bool, T | None]:
    """Runs a service call: (True, its result), or (False, None) after showing its error as a message.

    Every CaseFlowError reaches the user as its message, in their language; never a traceback.
    """
    try:
        return True, action()
    except CaseFlowError as error:
        st.error(escape(i18n.text(error.message)), icon=":material/error:")
        return False, None


def page_link_to_task(task_id: int, label: str | None = None, **kwargs: Any) -> None:
    """A link to /task?task=ID; ``label`` is markdown (escape the user text in it)."""
    st.page_link(page_file("task"), label=label or _("Task #{id}", id=task_id), query_params={"task": str(task_id)},
                 **kwargs)


def query_int(name: str) -> int | None:
    """An integer query parameter, or None when absent or not a number."""
    raw = st.query_params.get(name)
    if raw is None or not str(raw).strip().lstrip("#").isdigit():
        return None
    return int(str(raw).strip().lstrip("#"))


def empty_state(message: str, icon: str = ":material/inbox:") -> None:
    """What a page or tab shows when it has nothing to list; ``message`` is the UI's own markdown."""
    st.info(message, icon=icon)
