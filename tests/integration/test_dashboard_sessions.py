"""Dashboard sessions: one-time grants, signed expiring cookies, revocation, per-address throttling, single sign-on.

Time moves by passing ``now``; nothing sleeps. The browser side is tests/browser/test_sessions.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from core import service
from core.accounts import sessions, throttle
from core.config import get_settings
from core.database import session_scope
from core.errors import Forbidden, RateLimited
from dashboard.auth_routes import ROUTES, local_path
from db.models import User, UserSession
from tests.conftest import TEST_PASSWORD
from tests.support.db import row_counts

NEW_PASSWORD = "velvet-harbor-compass"


def signed_cookie(username: str, *, now: datetime | None = None) -> str:
    """What a sign-in leaves in the browser: the cookie its grant was exchanged for."""
    grant = sessions.start(service.current_actor(username), "10.0.0.9", now=now)
    cookie = service.redeem_session_grant(grant, now=now)
    assert cookie is not None
    return cookie


def test_a_grant_is_exchanged_once_within_a_minute_for_a_cookie_that_names_the_user(users) -> None:
    alice = users["engineer"]
    grant = service.start_session(alice, address="10.0.0.9")
    cookie = service.redeem_session_grant(grant)
    assert cookie is not None and grant not in cookie
    assert service.redeem_session_grant(grant) is None, "a replayed grant URL signs nobody in"
    actor = service.session_actor(cookie)
    assert actor is not None and actor.username == alice
    with session_scope() as session:
        row = session.scalars(select(UserSession)).one()
        assert row.grant_hash is None and row.token_hash not in cookie and row.address == "10.0.0.9"

    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    late = sessions.start(service.current_actor(alice), None, now=start)
    assert service.redeem_session_grant(late, now=start + timedelta(seconds=sessions.GRANT_SECONDS + 1)) is None
    assert service.redeem_session_grant("not-a-grant") is None


def test_a_forged_or_tampered_cookie_is_refused(users) -> None:
    cookie = signed_cookie(users["engineer"])
    token = cookie.split(".")[0]
    for forged in (token, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"), "", "x" * 5000, None):
        assert service.session_actor(forged) is None
    with session_scope() as session:  # the digest alone does not open it either
        digest = session.scalars(select(UserSession.token_hash)).one()
    assert service.session_actor(digest) is None


def test_a_session_ends_after_its_lifetime_and_after_idling(users, monkeypatch) -> None:
    monkeypatch.setenv("SESSION_HOURS", "48")
    monkeypatch.setenv("SESSION_IDLE_HOURS", "8")
    get_settings.cache_clear()
    now = datetime.now(UTC)
    cookie = signed_cookie(users["engineer"], now=now)
    for hours in (7, 14, 21, 28, 35, 42, 47):  # used every 7 hours: idling never ends it
        assert sessions.authenticate(cookie, now=now + timedelta(hours=hours)) is not None, hours
    assert sessions.authenticate(cookie, now=now + timedelta(hours=48, seconds=1)) is None, "past SESSION_HOURS"

    idle = signed_cookie(users["engineer2"], now=now)
    assert sessions.authenticate(idle, now=now + timedelta(hours=8, seconds=1)) is None, "unused for 8 hours"


def test_sign_out_ends_the_session_and_only_that_one(users) -> None:
    alice = users["engineer"]
    laptop, phone = signed_cookie(alice), signed_cookie(alice)
    assert service.end_session(laptop) is True
    assert service.session_actor(laptop) is None
    assert service.session_actor(phone) is not None
    assert service.end_session(laptop) is False


def test_a_password_change_ends_the_other_sessions_and_a_reset_or_deactivation_ends_all(users) -> None:
    alice, bob = users["engineer"], users["engineer2"]
    here, elsewhere, bobs = signed_cookie(alice), signed_cookie(alice), signed_cookie(bob)
    assert service.change_password(alice, TEST_PASSWORD, NEW_PASSWORD, session_cookie=here) == 1
    assert service.session_actor(here) is not None, "the session that changed it stays"
    assert service.session_actor(elsewhere) is None
    assert service.session_actor(bobs) is not None, "other users are untouched"

    service.update_user(alice, password=TEST_PASSWORD + "-reset", user=users["admin"])
    assert service.session_actor(here) is None, "an admin's reset signs the user out everywhere"

    again = signed_cookie(bob)
    service.update_user(bob, active=False, user=users["admin"])
    assert service.session_actor(again) is None and service.session_actor(bobs) is None
    service.update_user(bob, active=True, user=users["admin"])
    assert service.session_actor(again) is None, "reactivating does not bring old sessions back"


def test_twenty_failures_from_one_address_lock_it_for_every_username(users) -> None:
    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    office, home = "203.0.113.7", "198.51.100.4"
    for attempt in range(throttle.MAX_ADDRESS_FAILURES):  # many usernames, each below its own limit
        name = f"guess{attempt % 5}"
        assert service.authenticate(name, "wrong-password", address=office, now=start + timedelta(seconds=attempt)) \
            is None
    later = start + timedelta(minutes=1)
    with pytest.raises(RateLimited, match="from your address: try again in 15 minutes"):
        service.authenticate(users["engineer"], TEST_PASSWORD, address=office, now=later)
    assert service.authenticate(users["engineer"], TEST_PASSWORD, address=home, now=later) is not None
    assert service.authenticate(users["engineer"], TEST_PASSWORD, now=later) is not None, "no address: no such lock"
    unlocked = start + timedelta(seconds=throttle.MAX_ADDRESS_FAILURES - 1) + throttle.WINDOW
    assert service.authenticate(users["engineer"], TEST_PASSWORD, address=office, now=unlocked) is not None


def test_a_success_does_not_reset_the_address_count(users) -> None:
    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    address = "203.0.113.8"
    for attempt in range(throttle.MAX_ADDRESS_FAILURES - 1):
        service.authenticate(f"guess{attempt % 4}", "wrong-password", address=address,
                             now=start + timedelta(seconds=attempt))
        if attempt % 4 == 3:  # the attacker's own account, in between
            assert service.authenticate(users["viewer"], TEST_PASSWORD, address=address,
                                        now=start + timedelta(seconds=attempt)) is not None
    service.authenticate("guess9", "wrong-password", address=address, now=start + timedelta(minutes=1))
    with pytest.raises(RateLimited):
        service.authenticate(users["viewer"], TEST_PASSWORD, address=address, now=start + timedelta(minutes=2))


def test_single_sign_on_maps_claims_to_users_and_roles(users, monkeypatch) -> None:
    monkeypatch.setenv("SSO_ROLE_MAP", '{"qa-leads": "admin", "qa": "engineer"}')
    get_settings.cache_clear()
    created = service.sso_sign_in({"preferred_username": "mei", "groups": ["qa", "staff"]})
    assert (created.username, created.role.value) == ("mei", "engineer")
    with session_scope() as session:
        assert session.scalar(select(User.password_hash).where(User.username == "mei")) is None, "no password"
    assert service.authenticate("mei", "") is None

    assert service.sso_sign_in({"preferred_username": "MEI", "groups": ["qa", "qa-leads"]}).role.value == "admin"
    assert service.sso_sign_in({"preferred_username": "mei", "groups": []}).role.value == "admin", "kept"
    assert service.sso_sign_in({"preferred_username": "newcomer"}).role.value == "viewer", "SSO_DEFAULT_ROLE"
    assert service.sso_sign_in({"preferred_username": users["engineer"], "groups": "qa-leads"}).role.value == "admin"

    service.update_user("mei", active=False, user=users["admin"])
    with pytest.raises(Forbidden, match="deactivated"):
        service.sso_sign_in({"preferred_username": "mei", "groups": ["qa"]})
    before = row_counts()
    for claims in ({}, {"preferred_username": ""}, {"preferred_username": "x\ny"}, {"preferred_username": 7}):
        with pytest.raises(Forbidden, match="preferred_username"):
            service.sso_sign_in(claims)
    monkeypatch.setenv("SSO_DEFAULT_ROLE", "none")
    get_settings.cache_clear()
    with pytest.raises(Forbidden, match="no group of theirs is mapped"):
        service.sso_sign_in({"preferred_username": "stranger", "groups": ["sales"]})
    assert row_counts() == before, "refused sign-ins write nothing"


def test_single_sign_on_never_demotes_the_last_admin(users, monkeypatch) -> None:
    monkeypatch.setenv("SSO_ROLE_MAP", '{"qa": "engineer"}')
    get_settings.cache_clear()
    assert service.sso_sign_in({"preferred_username": users["admin"], "groups": ["qa"]}).role.value == "admin"


def test_the_routes_set_the_cookie_once_and_only_redirect_home(users) -> None:
    client = TestClient(Starlette(routes=ROUTES), base_url="http://dashboard.test", follow_redirects=False)
    grant = service.start_session(users["engineer"])
    answer = client.get("/auth/session", params={"grant": grant, "next": "/review?task=7"})
    assert answer.status_code == 303 and answer.headers["location"] == "/review?task=7"
    set_cookie = answer.headers["set-cookie"]
    assert set_cookie.startswith(f"{service.SESSION_COOKIE}=") and "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie and "Max-Age=604800" in set_cookie and "Secure" not in set_cookie
    cookie = set_cookie.split(";")[0].split("=", 1)[1]
    assert service.session_actor(cookie.strip('"')).username == users["engineer"]
    assert answer.headers["cache-control"] == "no-store"

    replayed = client.get("/auth/session", params={"grant": grant, "next": "/tasks"})
    assert replayed.status_code == 303 and "set-cookie" not in replayed.headers

    planted = service.start_session(users["engineer"])  # a grant sent to someone else from another site
    crossed = client.get("/auth/session", params={"grant": planted}, headers={"Sec-Fetch-Site": "cross-site"})
    assert crossed.status_code == 303 and "set-cookie" not in crossed.headers
    assert service.redeem_session_grant(planted) is not None, "refused without being spent"

    dropped = client.get("/auth/signout")
    assert dropped.headers["location"] == "/" and 'caseflow_session=""' in dropped.headers["set-cookie"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_only_paths_of_this_server_are_redirect_targets(db_url) -> None:
    for target in ("/review?task=7", "/", "/task?task=3&tab=rows"):
        assert local_path(target) == target
    for target in ("//evil.example/x", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "",
                   None, "review", "/a b", "/\x00", "/" + "x" * 3000):
        assert local_path(target) == "/"


def test_old_sessions_are_pruned(users) -> None:
    now = datetime.now(UTC)
    kept, ended = signed_cookie(users["engineer"]), signed_cookie(users["engineer"])
    service.end_session(ended, now=now - timedelta(days=8))
    sessions.start(service.current_actor(users["viewer"]), None, now=now - timedelta(days=9))  # never picked up
    assert sessions.prune(now=now) == 2
    assert service.session_actor(kept) is not None
