"""AppTest helpers: the real app.py with a signed-in user, on the per-test database (SQLite and PostgreSQL).

The scheduler is off inside the app (RUN_SCHEDULER=false); tests that need tasks to run
use the `worker` fixture. Streamlit caches are cleared per test: each test has its own database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 60

# The page files, relative to app.py (AppTest.switch_page takes these).
TASKS = "dashboard/pages/tasks.py"
TASK = "dashboard/pages/task.py"
LAUNCH = "dashboard/pages/launch.py"
REVIEW = "dashboard/pages/review.py"
TEST_CASES = "dashboard/pages/test_cases.py"
SCENES = "dashboard/pages/scenes.py"
AUTOMATION_CASES = "dashboard/pages/automation_cases.py"
IMPORTS = "dashboard/pages/imports.py"
METRICS = "dashboard/pages/metrics.py"
COVERAGE = "dashboard/pages/coverage.py"
ENVIRONMENTS = "dashboard/pages/environments.py"
SETTINGS = "dashboard/pages/settings.py"
PAGES = (TASKS, TASK, LAUNCH, REVIEW, TEST_CASES, SCENES, AUTOMATION_CASES, IMPORTS, ENVIRONMENTS, COVERAGE, METRICS,
         SETTINGS)
MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
"""A backslash before ASCII punctuation: CommonMark shows the character alone."""


@pytest.fixture
def dashboard(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """open(username=None, page=None, **query) -> an AppTest that has run once on that page."""
    from core.config import get_settings

    monkeypatch.setenv("RUN_SCHEDULER", "false")
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()

    def open_app(username: str | None = None, page: str | None = None, **query: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        for name, value in query.items():
            at.query_params[name] = value
        if username is not None:
            sign_in(at, username)
        at.run()
        if page is not None:
            at.switch_page(page).run()
        assert_no_exception(at)
        return at

    yield open_app
    st.cache_data.clear()


def sign_in(at: AppTest, username: str) -> None:
    """What the sign-in page (dashboard/pages/sign_in.py, through ui.sign_in) does after a good password.

    Tests of the form itself fill in the form.
    """
    from core import service

    at.session_state["actor"] = service.current_actor(username)
    at.session_state["last_event_id"] = service.latest_event_id()
    at.session_state["notifications"] = []


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def text(at: AppTest) -> str:
    """Every piece of text the run rendered (titles, markdown, captions, alerts, metrics, toasts, st.text).

    Markdown keeps its formatting marks (``**``), but escaped characters read as they show (``\\.`` is ``.``).
    """
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "toast"):
        parts.extend(shown(str(element.value)) for element in at.get(kind))
    parts.extend(f"{shown(m.label)} {m.value}" for m in at.get("metric"))
    parts.extend(str(element.value) for element in at.get("text"))
    return "\n".join(parts)


def shown(markdown: str) -> str:
    """A markdown source with its backslash escapes resolved, as the browser shows those characters."""
    return MARKDOWN_ESCAPE.sub(r"\1", markdown)


def has(at: AppTest, kind: str, key: str) -> bool:
    return any(getattr(element, "key", None) == key for element in at.get(kind))


def button(at: AppTest, key: str) -> Any:
    found = [b for b in at.button if b.key == key]
    assert found, f"no button {key!r}; buttons: {[b.key or b.label for b in at.button]}"
    return found[0]


def frame(at: AppTest, key: str | None) -> Any:
    """The data a dataframe or data editor shows (key None: the first; a read-only grid has no key)."""
    found = [d for d in at.dataframe if key is None or d.key == key]
    assert found, f"no dataframe {key!r}"
    return found[0].value
