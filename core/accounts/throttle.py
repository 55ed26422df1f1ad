"""Sign-in throttling, per username and per client address.

Five failed sign-ins for one username within 15 minutes lock that username for 15 minutes;
twenty from one client address within 15 minutes lock the address (every username tried
from it) as long. The address limit is higher because a team behind one office router
shares an address; it stops one machine guessing many accounts' passwords.

Failures are rows of ``sign_in_failures``, so every dashboard process sees the same count.
A username is keyed as typed, lower-cased, whether or not such a user exists: a lock says
nothing about which accounts exist, and "Admin" counts against "admin". While a key is
locked no password is checked and nothing is recorded, so the lock ends 15 minutes after
the failure that set it. A successful sign-in clears the username's failures, not the
address's (else signing in to one's own account would reset the count between guesses).
Rows older than twice the window matter to no lock and go with the next failure recorded.
Every function takes ``now`` so tests move time instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import SignInFailure

MAX_FAILURES = 5
"""Failures of one username that lock it."""
MAX_ADDRESS_FAILURES = 20
"""Failures from one client address that lock it."""
WINDOW = timedelta(minutes=15)
"""Failures older than this no longer count; a lock lasts as long."""
KEY_CHARS = 100


@dataclass(frozen=True)
class Key:
    """What a failure counts against: a username (scope "user") or a client address (scope "address")."""

    scope: str
    value: str

    @property
    def limit(self) -> int:
        return MAX_ADDRESS_FAILURES if self.scope == "address" else MAX_FAILURES


def key_of(username: str) -> Key:
    """The throttle's key for a username: lower-cased, as long as the column."""
    return Key("user", username.strip().lower()[:KEY_CHARS])


def address_key(address: str) -> Key:
    return Key("address", address.strip()[:KEY_CHARS])


def locked_until(session: Session, key: Key, now: datetime) -> datetime | None:
    """When the lock on ``key`` ends, or None if it may sign in now.

    No failure is recorded while a lock holds, so the latest failure is the one that set it.
    """
    mine = (SignInFailure.scope == key.scope, SignInFailure.username == key.value)
    latest = session.scalar(select(func.max(SignInFailure.failed_at)).where(*mine))
    if latest is None or now >= latest + WINDOW:
        return None
    count = session.scalar(select(func.count()).select_from(SignInFailure)
                           .where(*mine, SignInFailure.failed_at > latest - WINDOW))
    return latest + WINDOW if (count or 0) >= key.limit else None


def record_failure(session: Session, keys: list[Key], now: datetime) -> None:
    """Counts a failed sign-in against each key and forgets every failure too old to matter to any lock."""
    session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - 2 * WINDOW))
    session.add_all(SignInFailure(scope=key.scope, username=key.value, failed_at=now) for key in keys)


def clear(session: Session, key: Key) -> None:
    """Forgets ``key``'s failures after a successful sign-in."""
    session.execute(delete(SignInFailure).where(SignInFailure.scope == key.scope, SignInFailure.username == key.value))
