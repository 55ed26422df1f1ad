"""Accounts: a real password policy, usernames unique in any case and plain, sign-ins throttled per username."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from core import service
from core.accounts import throttle
from core.database import database, session_scope
from core.errors import Conflict, DatabaseUnavailable, Forbidden, InvalidInput, RateLimited
from core.migrate import alembic_config
from db.models import SignInFailure, User
from tests.conftest import TEST_PASSWORD

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GOOD_PASSWORD = "amber-lantern-quay"


def user_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def failures() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(SignInFailure.username).order_by(SignInFailure.id)))


WEAK_PASSWORDS = [
    ("short-pw", "at least 10"),
    ("x" * 257, "at most 256"),
    (" " * 12, "only spaces"),
    ("\t \n" * 4, "only spaces"),
    ("password1234", "too easy to guess"),
    ("qwertyuiop", "too easy to guess"),
    ("aaaaaaaaaaaa", "too easy to guess"),
    ("dora", "at least 10"),
    ("dora-1234567", "must not contain the username"),
    ("XDORAXDORAX-77", "must not contain the username"),
    (12345678901, "must be text"),
]
BAD_USERNAMES = [
    ("u" * 101, "at most 100"),
    ("eve\x00", "NUL"),
    ("eve\u202egro", "control character"),
    ("eve\tsmith", "control character"),
    ("eve\nsmith", "control character"),
    ("   ", "A username is required"),
    (None, "must be text"),
]


def test_weak_passwords_are_refused_with_the_reason(users: dict[str, str]) -> None:
    before = user_count()
    for password, message in WEAK_PASSWORDS:
        with pytest.raises(InvalidInput, match=message):
            service.add_user("dora", "viewer", password, user=users["admin"])
    assert user_count() == before


def test_every_way_to_set_a_password_applies_the_policy(users: dict[str, str]) -> None:
    admin, engineer = users["admin"], users["engineer"]
    with pytest.raises(InvalidInput, match="too easy to guess"):
        service.create_user("dora", "viewer", "password123")
    with pytest.raises(InvalidInput, match="too easy to guess"):
        service.update_user(engineer, password="1234567890", user=admin)
    with pytest.raises(InvalidInput, match="must not contain the username"):
        service.change_password(engineer, TEST_PASSWORD, f"{engineer}-{GOOD_PASSWORD}")
    assert service.authenticate(engineer, TEST_PASSWORD) is not None, "nothing changed"
    created = service.add_user("dora", "viewer", GOOD_PASSWORD, user=admin)
    assert created["username"] == "dora" and service.authenticate("dora", GOOD_PASSWORD) is not None
    generated = service.add_user("ella", "viewer", None, user=admin)["password"]
    assert service.authenticate("ella", generated) is not None, "generated passwords pass the policy"


def test_usernames_are_unique_without_regard_to_case(users: dict[str, str]) -> None:
    before = user_count()
    for name in ("ADMIN", "Alice", " alice "):
        with pytest.raises(Conflict, match="already exists"):
            service.add_user(name, "viewer", GOOD_PASSWORD, user=users["admin"])
    with pytest.raises(Conflict, match="without regard to case"):
        service.create_user("ALICE", "viewer", GOOD_PASSWORD)
    with pytest.raises(IntegrityError), session_scope() as session:  # the index holds even past the check
        session.add(User(username="VICTOR", role="viewer", password_hash="x"))
        session.flush()
    assert user_count() == before


def test_usernames_are_bounded_plain_text(users: dict[str, str]) -> None:
    before = user_count()
    for username, message in BAD_USERNAMES:
        with pytest.raises(InvalidInput, match=message):
            service.add_user(username, "viewer", GOOD_PASSWORD, user=users["admin"])
    assert user_count() == before
    assert service.add_user("u" * 100, "viewer", GOOD_PASSWORD, user=users["admin"])["username"] == "u" * 100


def test_five_failures_lock_a_username_for_fifteen_minutes(users: dict[str, str]) -> None:
    alice = users["engineer"]
    for minute in range(5):
        assert service.authenticate(alice, "wrong-password", now=START + timedelta(minutes=minute)) is None
    for name in (alice, alice.upper()):  # the right password too, and in any case
        with pytest.raises(RateLimited, match=r"try again in 14 minutes \(after 09:19 UTC\)"):
            service.authenticate(name, TEST_PASSWORD, now=START + timedelta(minutes=5))
    assert failures() == [alice] * 5, "kept in the database, where every dashboard process counts them"
    assert service.authenticate(users["engineer2"], TEST_PASSWORD, now=START) is not None, "other users sign in"
    with pytest.raises(RateLimited, match="try again in 1 minute "):
        service.authenticate(alice, TEST_PASSWORD, now=START + timedelta(minutes=18, seconds=30))
    actor = service.authenticate(alice, TEST_PASSWORD, now=START + timedelta(minutes=19))
    assert actor is not None and actor.username == alice
    assert failures() == [], "a successful sign-in clears the count"


def test_old_failures_stop_counting_and_unknown_names_are_throttled_alike(users: dict[str, str]) -> None:
    alice = users["engineer"]
    for minute in (0, 1, 2, 3):
        service.authenticate(alice, "wrong-password", now=START + timedelta(minutes=minute))
    later = START + timedelta(minutes=20)
    assert service.authenticate(alice, "wrong-password", now=later) is None
    assert service.authenticate(alice, TEST_PASSWORD, now=later) is not None, "4 old failures and 1 new: no lock"
    for minute in range(throttle.MAX_FAILURES):
        service.authenticate("nobody", "wrong-password", now=START + timedelta(minutes=minute))
    with pytest.raises(RateLimited):  # the same answer as for a real account: locks tell nothing about accounts
        service.authenticate("Nobody", "wrong-password", now=START + timedelta(minutes=6))
    for _ in range(throttle.MAX_FAILURES):  # changing a password proves the current one through the same door
        with pytest.raises(Forbidden, match="current password is wrong"):
            service.change_password(users["engineer2"], "not-the-password", GOOD_PASSWORD)
    with pytest.raises(RateLimited):
        service.change_password(users["engineer2"], TEST_PASSWORD, GOOD_PASSWORD)


def test_a_username_no_account_can_have_is_simply_wrong(users: dict[str, str]) -> None:
    for username in ("x\x00y", None, 42, "u" * 101, "", "x\ny"):
        assert service.authenticate(username, TEST_PASSWORD) is None
    assert service.authenticate(users["engineer"], None) is None
    assert failures() == [users["engineer"]], "only the real name's failure is recorded"


def alembic(action: str, revision: str) -> None:
    """Runs an Alembic command on the configured database as `python -m core db upgrade` does (with the key)."""
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", database().url.render_as_string(hide_password=False))
    with database().engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_the_migration_names_usernames_that_differ_only_in_case(db_url: str) -> None:
    alembic("downgrade", "0004")
    with database().engine.begin() as connection:
        connection.execute(text("INSERT INTO users (username, role, is_active) VALUES "
                                "('admin', 'admin', true), ('ADMIN', 'viewer', true)"))
    with pytest.raises(DatabaseUnavailable, match=r"differ only in case exist \(admin\); rename or remove"):
        service.upgrade_database()
    with database().engine.begin() as connection:
        connection.execute(text("UPDATE users SET username = 'admin-viewer' WHERE username = 'ADMIN'"))
    service.upgrade_database()
    with pytest.raises(Conflict):
        service.create_user("Admin-Viewer", "viewer", GOOD_PASSWORD)
