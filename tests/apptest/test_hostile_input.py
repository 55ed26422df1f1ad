"""Hostile input through the pages: a locked sign-in says when to retry; the Import page refuses a YAML bomb."""

from __future__ import annotations

from core import service
from tests.apptest.conftest import assert_no_exception, text
from tests.conftest import TEST_PASSWORD
from tests.integration.test_hostile_files import BILLION_LAUGHS

IMPORTS = "dashboard/pages/imports.py"


def test_a_locked_username_is_told_when_to_try_again(dashboard, users) -> None:
    at = dashboard()
    at.text_input[0].input(users["engineer"])
    for _ in range(5):
        at.text_input[1].input("wrong password")
        at.button[0].click().run()
        assert "Wrong username or password." in text(at)
    at.text_input[1].input(TEST_PASSWORD)
    at.button[0].click().run()
    assert_no_exception(at)
    assert "Too many failed sign-ins for this username: try again in 15 minutes" in text(at)
    assert "actor" not in at.session_state


def test_the_import_page_refuses_a_billion_laughs_and_writes_nothing(dashboard, users) -> None:
    at = dashboard(users["engineer"], IMPORTS)
    at.file_uploader(key="openapi_upload").set_value(("bomb.yaml", BILLION_LAUGHS.encode(), "application/yaml"))
    at.run()
    assert_no_exception(at)
    assert "expand to 490,329,036 more values" in text(at)
    assert service.list_scenes() == []
