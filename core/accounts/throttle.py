"""Sign-in throttling: five failed sign-ins for one username within 15 minutes lock it for 15 minutes.

Failures are rows of ``sign_in_failures``, so every dashboard process sees the same count.
They are keyed by the username as typed, lower-cased, whether or not such a user exists: a
lock says nothing about which accounts exist, and "Admin" counts against "admin". While a
username is locked no password is checked and nothing is recorded, so the lock ends 15
minutes after the failure that set it. A successful sign-in clears the username's failures; rows
older than twice the window matter to no lock and go with the next failure recorded.
Every function takes ``now`` so tests move time instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import SignInFailure

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
"""Failures older than this no longer count; a lock lasts as long."""
KEY_CHARS = 100


def key_of(username: str) -> str:
    """The throttle's key for a username: lower-cased, as long as the column."""
    return username.strip().lower()[:KEY_CHARS]


def locked_until(session: Session, key: str, now: datetime) -> datetime | None:
    """When the lock on ``key`` ends, or None if it may sign in now.

    No failure is recorded while a lock holds, so the latest failure is the one that set it.
    """
    latest = session.scalar(select(func.max(SignInFailure.failed_at)).where(SignInFailure.username == key))
    if latest is None or now >= latest + WINDOW:
        return None
    count = session.scalar(select(func.count()).select_from(SignInFailure)
                           .where(SignInFailure.username == key, SignInFailure.failed_at > latest - WINDOW))
    return latest + WINDOW if (count or 0) >= MAX_FAILURES else None


def record_failure(session: Session, key: str, now: datetime) -> None:
    """Counts a failed sign-in for ``key`` and forgets every failure too old to matter to any lock."""
    session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - 2 * WINDOW))
    session.add(SignInFailure(username=key, failed_at=now))


def clear(session: Session, key: str) -> None:
    """Forgets ``key``'s failures after a successful sign-in."""
    session.execute(delete(SignInFailure).where(SignInFailure.username == key))
