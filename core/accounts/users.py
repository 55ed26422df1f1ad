"""Users, their roles and passwords, and the permission checks every entry point goes through.

Usernames: 1 to 100 characters of plain one-line text, unique without regard to case.
Passwords: 10 to 256 characters, not only spaces, not the username nor containing it, and not
easy to guess: zxcvbn (Dropbox's estimator, with its lists of common passwords, words and
names) must rate them at least 3 of 4, "safely unguessable".
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import inputs
from core.accounts import throttle
from core.database import session_scope
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from core.messages import phrase
from db.models import Role, User
from db.types import utcnow

_hasher = PasswordHasher()
MAX_USERNAME_LENGTH = 100
"""As long as users.username holds."""
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MIN_PASSWORD_STRENGTH = 3
"""zxcvbn's score (0-4) a password needs: 3 is "safely unguessable" (about 10^10 guesses)."""
ZXCVBN_MAX_CHARS = 72
"""zxcvbn rates at most this many characters; a longer password is rated on its start."""


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who is acting: enough to check permissions and to record who did what."""

    id: int
    username: str
    role: Role

    @property
    def can_operate(self) -> bool:
        """Launch, review, cancel and retry tasks."""
        return self.role in (Role.ADMIN, Role.ENGINEER)


def require_operator(actor: Actor, action: str) -> Actor:
    """The actor, if they may launch, review and edit (admins, engineers); else Forbidden naming ``action``."""
    if not actor.can_operate:
        raise Forbidden("{actor_username} is a {actor_role} and cannot {action}.",
                        actor_username=actor.username, actor_role=actor.role.value,
                        action=phrase(action))
    return actor


def require_admin(actor: Actor, action: str) -> Actor:
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only admins can {action}.", action=phrase(action))
    return actor


def actor_of(session: Session, username: str) -> Actor:
    """The active user called ``username``."""
    username = inputs.text(username, "The acting user")
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise NotFound("No active user called {username!r}.", username=username)
    return Actor(id=user.id, username=user.username, role=Role(user.role))


def current_actor(username: str) -> Actor:
    """The active user called ``username``, as the database has them now."""
    with session_scope(read_only=True) as session:
        return actor_of(session, username)


def check_username(username: object) -> str:
    """``username`` trimmed, if it can be one: 1 to 100 characters of plain one-line text."""
    name = inputs.text(username, "The username").strip()
    if not name:
        raise InvalidInput("A username is required.")
    return inputs.text(name, "The username", limit=MAX_USERNAME_LENGTH, single_line=True)


def password_problem(password: object, username: str) -> str | None:
    """What makes ``password`` unacceptable for ``username``, or None; the one place password rules live."""
    if not isinstance(password, str):
        return "The password must be text."
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} and at most {MAX_PASSWORD_LENGTH} characters."
    if not password.strip():
        return "The password cannot be only spaces."
    name = username.strip().lower()
    if name and (password.lower() == name or (len(name) >= 3 and name in password.lower())):
        return "The password must not contain the username."
    return _guessability_problem(password, name)


def _guessability_problem(password: str, username: str) -> str | None:
    from zxcvbn import zxcvbn  # its word lists take a moment to load: only when a password is set

    rating = zxcvbn(password[:ZXCVBN_MAX_CHARS], user_inputs=[username] if username else [])
    if rating["score"] >= MIN_PASSWORD_STRENGTH:
        return None
    feedback = rating["feedback"]
    advice = " ".join(part for part in (feedback.get("warning"), *feedback.get("suggestions", [])) if part)
    return f"The password is too easy to guess.{f' {advice}' if advice else ''} A few unrelated words work well."


def hash_password(password: object, username: str) -> str:
    """The argon2 hash of ``password`` if it is acceptable for ``username``, else InvalidInput saying why."""
    problem = password_problem(password, username)
    if problem is not None or not isinstance(password, str):
        raise InvalidInput(problem or "The password must be text.")
    return _hasher.hash(password)


def generate_password() -> str:
    """A random password for a new account, to be shown once."""
    return secrets.token_urlsafe(12)


def check_role(role: object) -> None:
    if not isinstance(role, str) or role not in {r.value for r in Role}:
        raise InvalidInput("Unknown role {value!r}: use admin, engineer or viewer.", value=str(role)[:20])


def create_user(username: str, role: str, password: str) -> Actor:
    """A new user with an argon2-hashed password; a Conflict when the name is taken in any case."""
    username = check_username(username)
    check_role(role)
    password_hash = hash_password(password, username)
    try:
        with session_scope() as session:
            taken = session.scalar(select(User.username).where(func.lower(User.username) == func.lower(username)))
            if taken is not None:
                raise Conflict(_taken(username, taken))
            user = User(username=username, role=role, password_hash=password_hash)
            session.add(user)
            session.flush()
            return Actor(id=user.id, username=user.username, role=Role(role))
    except IntegrityError:  # added by someone else since the check
        raise Conflict(_taken(username, username)) from None


def _taken(username: str, taken: str) -> str:
    same = f"A user called {taken!r} already exists"
    return f"{same}." if taken == username else f"{same}; usernames are unique without regard to case."


def authenticate(username: object, password: object, *, address: str | None = None,
                 now: datetime | None = None) -> Actor | None:
    """The user if the password is right, else None (never says which part was wrong).

    After five failures for a username within 15 minutes it is locked for 15 minutes, and
    after twenty from one client ``address`` (when known) that address is: RateLimited,
    saying when to try again (core.accounts.throttle). A username no account can have is
    simply wrong: None, nothing recorded.
    """
    try:
        name = check_username(username)
    except InvalidInput:
        return None
    now = now or utcnow()
    keys = [throttle.key_of(name)] + ([throttle.address_key(address)] if isinstance(address, str) and address else [])
    with session_scope() as session:
        for key in keys:
            if until := throttle.locked_until(session, key, now):
                raise RateLimited(_locked_message(key, until, now))
        user = session.scalar(select(User).where(User.username == name))
        matched = _password_matches(user, password)
        if user is None or not matched:
            throttle.record_failure(session, keys, now)
            return None
        throttle.clear(session, keys[0])
        return Actor(id=user.id, username=user.username, role=Role(user.role))


def _password_matches(user: User | None, password: object) -> bool:
    """Whether ``password`` is the active ``user``'s; as slow to say no when there is no such user."""
    stored = user.password_hash if user is not None and user.is_active and user.password_hash else None
    typed = password if isinstance(password, str) else ""
    try:
        _hasher.verify(stored or _unknown_user_hash(), typed)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None and isinstance(password, str)


@cache
def _unknown_user_hash() -> str:
    """A hash no password matches, checked when no such user exists: a wrong username costs a wrong password's time."""
    return _hasher.hash(secrets.token_urlsafe(32))


def _locked_message(key: throttle.Key, until: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    source = "from your address" if key.scope == "address" else "for this username"
    return (f"Too many failed sign-ins {source}: try again in {minutes} minute{'s' if minutes > 1 else ''} "
            f"(after {until:%H:%M} UTC).")


def ensure_admin(password: str | None) -> str | None:
    """Creates the first admin when there are no users at all.

    Returns the generated password when none was given (to be shown once), else None.
    """
    with session_scope() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
    chosen = password or generate_password()
    create_user("admin", Role.ADMIN.value, chosen)
    return None if password else chosen
