"""The first-run guide on an empty library: what a scene and a test case are, and loading the demo from it."""

from __future__ import annotations

import pytest

from core import service
from core.errors import Forbidden
from tests.apptest.conftest import TASKS, assert_no_exception, button, has, text


def test_an_empty_library_shows_the_guide_and_the_demo_loads_from_it(dashboard, users) -> None:
    at = dashboard(users["engineer"], TASKS)
    shown = text(at)
    assert "Welcome to CaseFlow" in shown and "A scene" in shown and "A test case" in shown
    button(at, "load_demo").click().run()
    assert_no_exception(at)
    assert not service.library_is_empty()
    assert service.list_scenes() and service.list_test_cases()["total"] > 0
    assert "Welcome to CaseFlow" not in text(at) and "Demo loaded" in text(at)


def test_viewers_read_the_guide_without_the_buttons(dashboard, users) -> None:
    at = dashboard(users["viewer"], TASKS)
    assert "Welcome to CaseFlow" in text(at) and "ask one to add the first scenes" in text(at)
    assert not has(at, "button", "load_demo")
    with pytest.raises(Forbidden):  # and the service refuses them anyway
        service.load_demo_data(user=users["viewer"])
    assert service.library_is_empty()


def test_a_library_with_data_shows_no_guide(dashboard, demo, users) -> None:
    at = dashboard(users["engineer"], TASKS)
    assert "Welcome to CaseFlow" not in text(at)
