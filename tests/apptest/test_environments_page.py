"""The environments page, run on its own (app.py registers it): list, add, edit, module defaults, remove."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import service
from tests.apptest.conftest import ROOT, TIMEOUT, assert_no_exception, button, has, text
from tests.support.environments import SECRET, SECRET_VARIABLE, STAGING, orders_case

PAGE = str(ROOT / "dashboard" / "pages" / "environments.py")


def open_page(username: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state["actor"] = service.current_actor(username)
    at.run()
    assert_no_exception(at)
    return at


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    return SECRET


def test_an_engineer_adds_an_environment_and_sees_its_secret_is_set_never_its_value(users, secret) -> None:
    at = open_page(users["engineer"])
    assert "No environments yet" in text(at)
    at.selectbox(key="env_add_auth_kind").select("bearer").run()
    at.text_input(key="env_add_name").input("staging")
    at.text_input(key="env_add_base_url").input("https://staging.example.com/api")
    at.text_input(key="env_add_secret_variable").input(SECRET_VARIABLE)
    at.text_area(key="env_add_headers").input('{"X-Tenant": "acme"}')
    at.text_area(key="env_add_variables").input('{"region": "eu"}')
    button(at, "env_add_submit").click().run()
    assert_no_exception(at)
    assert "Added staging." in text(at)
    created = service.get_environment("staging", user=users["viewer"])
    assert created["headers"] == {"X-Tenant": "acme"} and created["variables"] == {"region": "eu"}
    assert created["auth"]["secret_variable"] == SECRET_VARIABLE
    shown = at.dataframe[0].value
    assert list(shown["secret"]) == [f"{SECRET_VARIABLE} · set on this server"]
    assert secret not in shown.to_csv() + text(at)


def test_refusals_show_the_services_message(users) -> None:
    at = open_page(users["engineer"])
    at.text_input(key="env_add_name").input("staging")
    at.text_input(key="env_add_base_url").input("https://staging.example.com")
    at.text_area(key="env_add_headers").input('{"Authorization": "Bearer abc"}')
    button(at, "env_add_submit").click().run()
    assert "The header Authorization carries credentials" in text(at)
    at.text_area(key="env_add_headers").input("{not json")
    button(at, "env_add_submit").click().run()
    assert "Headers: not valid JSON" in text(at)
    assert service.list_environments(user=users["engineer"]) == []


def test_edit_module_defaults_and_remove(users, secret) -> None:
    orders_case()  # the Orders module
    service.create_environment({**STAGING, "base_url": "https://staging.example.com"}, user=users["engineer"])
    at = open_page(users["engineer"])
    form = "env_edit_" + str(service.get_environment("staging", user=users["engineer"])["id"])
    assert at.text_input(key=f"{form}_secret_variable").value == SECRET_VARIABLE
    at.text_input(key=f"{form}_base_url").input("https://staging2.example.com")
    button(at, f"{form}_submit").click().run()
    assert "Saved staging." in text(at)
    edited = service.get_environment("staging", user=users["engineer"])
    assert edited["base_url"] == "https://staging2.example.com" and edited["variables"] == STAGING["variables"]

    at.selectbox(key="env_module_pick").select("Orders").run()
    at.selectbox(key="env_module_default").select("staging")
    at.selectbox(key="env_module_sandbox").select("staging")
    button(at, "env_module_submit").click().run()
    assert_no_exception(at)
    assert service.list_module_environments(user=users["viewer"]) == [
        {"module": "Orders", "default": "staging", "sandbox": "staging"}]

    button(at, "env_remove_submit").click().run()
    assert "Tick the box to confirm." in text(at)
    assert service.list_environments(user=users["engineer"]) != []
    at.checkbox(key="env_remove_sure").check()
    button(at, "env_remove_submit").click().run()
    assert "Removed staging." in text(at) and "No environments yet" in text(at)
    assert service.list_module_environments(user=users["viewer"]) == []


def test_viewers_read_only(users, secret) -> None:
    orders_case()
    service.create_environment({**STAGING, "base_url": "https://staging.example.com", "default_for": ["Orders"]},
                               user=users["engineer"])
    at = open_page(users["viewer"])
    assert list(at.dataframe[0].value["name"]) == ["staging"]
    assert list(at.dataframe[1].value["default"]) == ["staging"]
    assert not has(at, "button", "env_add_submit") and not has(at, "selectbox", "env_module_pick")
    assert "Viewers read environments" in text(at) and secret not in text(at)
