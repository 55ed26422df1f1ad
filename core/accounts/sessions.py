"""Dashboard sessions that last: a signed, expiring session cookie backed by the ``user_sessions`` table.

A Streamlit script cannot set a cookie, so signing in takes two steps. The sign-in page
checks the password and :func:`start` records a session holding a one-time *grant* (32
random bytes from ``secrets``, valid for a minute, stored as its SHA-256 digest). The
browser is sent to the dashboard's ``/auth/session`` route with it, and :func:`redeem`
exchanges it, once, for the session's token (another 32 random bytes, stored as its
digest), which the route sets as an HTTP-only cookie signed with itsdangerous. Every run of
the dashboard reads the cookie and :func:`authenticate` finds its live session: not revoked,
not past ``SESSION_HOURS`` since sign-in nor ``SESSION_IDLE_HOURS`` since last seen, its
user active. Signing out revokes the session; a password change revokes all of the user's
other sessions, an admin's reset or deactivation all of them.

The signature (key: SESSION_SECRET, else a random key kept in ``system_state``) lets a
forged or tampered cookie be refused without a database lookup; the table is what decides.
Every function takes ``now`` so tests move time instead of sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.accounts.users import Actor
from core.config import get_settings
from core.database import session_scope
from db.models import Role, SystemState, User, UserSession
from db.types import utcnow

COOKIE_NAME = "caseflow_session"
GRANT_SECONDS = 60
"""How long the browser has to exchange a grant for its cookie."""
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often per session, not on every run."""
KEPT_AFTER_END = timedelta(days=7)
"""Ended sessions stay this long (who signed in from where), then the daily cleanup removes them."""
SECRET_KEY = "session_signing"
"""The system_state row holding the generated signing key when SESSION_SECRET is unset."""
MAX_COOKIE_LENGTH = 300
SALT = "caseflow.session"


@dataclass(frozen=True)
class Signed:
    """A live session: who it is, and its id (to keep it when revoking the user's others)."""

    actor: Actor
    session_id: int


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def lifetime() -> timedelta:
    return timedelta(hours=get_settings().session_hours)


def start(actor: Actor, address: str | None, *, now: datetime | None = None) -> str:
    """A new session for ``actor``, still to be picked up: returns its one-time grant."""
    now = now or utcnow()
    grant = secrets.token_urlsafe(32)
    with session_scope() as session:
        session.add(UserSession(user_id=actor.id, grant_hash=digest(grant),
                                grant_expires_at=now + timedelta(seconds=GRANT_SECONDS),
                                address=(address or None) and address[:64], created_at=now,
                                expires_at=now + lifetime(), last_seen_at=now))
    return grant


def redeem(grant: str, *, now: datetime | None = None) -> str | None:
    """The signed cookie value for the session a live grant starts; None for an unknown, used or old grant.

    The grant is spent in the same write that gives the session its token, so a second
    exchange of the same grant (a replayed URL) finds nothing.
    """
    if not grant or len(grant) > MAX_COOKIE_LENGTH:
        return None
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with session_scope() as session:
        spent = session.execute(
            update(UserSession)
            .where(UserSession.grant_hash == digest(grant), UserSession.grant_expires_at > now,
                   UserSession.revoked_at.is_(None))
            .values(grant_hash=None, grant_expires_at=None, token_hash=digest(token), last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:
            return None
    return _serializer().dumps(token)


def authenticate(cookie: str | None, *, now: datetime | None = None) -> Signed | None:
    """The live session a cookie names, with its active user; None otherwise (never says why)."""
    token = _token_of(cookie)
    if token is None:
        return None
    now = now or utcnow()
    idle = timedelta(hours=get_settings().session_idle_hours)
    with session_scope(read_only=True) as session:
        found = session.execute(
            select(UserSession.id, UserSession.last_seen_at, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == digest(token), UserSession.revoked_at.is_(None),
                   UserSession.expires_at > now, UserSession.last_seen_at > now - idle, User.is_active.is_(True))
        ).first()
    if found is None:
        return None
    session_id, last_seen_at, user = found
    if now - last_seen_at >= LAST_SEEN_RESOLUTION:
        with session_scope() as session:
            session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    return Signed(Actor(id=user.id, username=user.username, role=Role(user.role)), session_id)


def revoke(cookie: str | None, *, now: datetime | None = None) -> bool:
    """Ends the session a cookie names (signing out); False when it names none that is live."""
    token = _token_of(cookie)
    if token is None:
        return False
    with session_scope() as session:
        ended = session.execute(
            update(UserSession).where(UserSession.token_hash == digest(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=now or utcnow()).execution_options(synchronize_session=False))
        return ended.rowcount == 1


def revoke_all(user_id: int, *, keep: int | None = None, now: datetime | None = None) -> int:
    """Ends every session of a user, but ``keep`` (a session id); returns how many ended."""
    where = [UserSession.user_id == user_id, UserSession.revoked_at.is_(None)]
    if keep is not None:
        where.append(UserSession.id != keep)
    with session_scope() as session:
        return session.execute(update(UserSession).where(*where).values(revoked_at=now or utcnow())
                               .execution_options(synchronize_session=False)).rowcount


def prune(*, now: datetime | None = None) -> int:
    """Removes sessions that ended (revoked, expired, or never picked up) more than a week ago."""
    cutoff = (now or utcnow()) - KEPT_AFTER_END
    with session_scope() as session:
        return session.execute(delete(UserSession).where(or_(
            UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff,
            (UserSession.token_hash.is_(None)) & (UserSession.created_at < cutoff),
        ))).rowcount


def _token_of(cookie: str | None) -> str | None:
    """The token inside a cookie whose signature holds and is younger than SESSION_HOURS."""
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
        return None
    try:
        token = _serializer().loads(cookie, max_age=int(lifetime().total_seconds()))
    except BadSignature:  # also SignatureExpired
        return None
    return token if isinstance(token, str) else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_signing_key(), salt=SALT)


def _signing_key() -> str:
    """SESSION_SECRET, else the key generated once and kept in system_state (shared by every process)."""
    configured = get_settings().session_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return _stored_key(get_settings().database_url)


@lru_cache(maxsize=8)
def _stored_key(database_url: str) -> str:
    """The generated key of the database at ``database_url``, made by whichever process needs it first."""
    with session_scope(read_only=True) as session:
        row = session.get(SystemState, SECRET_KEY)
        if row is not None and row.value.get("key"):
            return str(row.value["key"])
    try:
        with session_scope() as session:
            session.add(SystemState(key=SECRET_KEY, value={"key": secrets.token_hex(32)}, updated_by="caseflow"))
    except IntegrityError:  # another process made it first: use theirs
        pass
    with session_scope(read_only=True) as session:
        row = session.get(SystemState, SECRET_KEY)
        assert row is not None
        return str(row.value["key"])
