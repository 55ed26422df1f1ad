"""Single sign-on through app.py: Streamlit's st.user (seeded by AppTest as an OIDC sign-in would) signs users in.

A real OIDC provider (Keycloak) cannot run here; the claims are what its ID token carries.
"""

from __future__ import annotations

import pytest

from core.config import get_settings
from tests.apptest.conftest import TASKS, assert_no_exception, text


@pytest.fixture
def sso(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSO_PROVIDER", "keycloak")
    monkeypatch.setenv("SSO_ROLE_MAP", '{"caseflow-engineers": "engineer"}')
    monkeypatch.setenv("SSO_DEFAULT_ROLE", "none")
    get_settings.cache_clear()


def test_an_oidc_sign_in_is_a_caseflow_user_with_the_mapped_role(dashboard, users, sso) -> None:
    at = dashboard()
    assert [b.label for b in at.button] == ["Sign in with single sign-on"], "SSO replaces the password form"
    assert not at.text_input

    at.user = {"is_logged_in": True, "preferred_username": "mei", "groups": ["caseflow-engineers"]}
    at.run()
    assert_no_exception(at)
    assert at.session_state["actor"].username == "mei" and at.session_state["actor"].role.value == "engineer"
    at.switch_page(TASKS).run()
    assert "mei" in "\n".join(m.value for m in at.sidebar.get("markdown"))


def test_an_oidc_user_no_group_admits_sees_why_and_can_sign_out_there(dashboard, users, sso) -> None:
    at = dashboard()
    at.user = {"is_logged_in": True, "preferred_username": "stranger", "groups": ["sales"]}
    at.run()
    assert_no_exception(at)
    assert "actor" not in at.session_state
    assert "no group of theirs is mapped" in text(at)
    assert [b.label for b in at.button] == ["Sign out of single sign-on"]


def test_passwords_still_sign_in_when_allowed(dashboard, users, sso, monkeypatch) -> None:
    monkeypatch.setenv("SSO_ALLOW_PASSWORDS", "true")
    get_settings.cache_clear()
    at = dashboard()
    assert [b.label for b in at.button] == ["Sign in with single sign-on", "Sign in"]
