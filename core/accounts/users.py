"""Users, their roles and passwords, and the permission checks every entry point goes through."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.database import session_scope
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from db.models import Role, User

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


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
        raise Forbidden(f"{actor.username} is a {actor.role.value} and cannot {action}.")
    return actor


def require_admin(actor: Actor, action: str) -> Actor:
    if actor.role is not Role.ADMIN:
        raise Forbidden(f"Only admins can {action}.")
    return actor


def actor_of(session: Session, username: str) -> Actor:
    """The active user called ``username``."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise NotFound(f"No active user called {username!r}.")
    return Actor(id=user.id, username=user.username, role=Role(user.role))


def current_actor(username: str) -> Actor:
    """The active user called ``username``, as the database has them now."""
    with session_scope(read_only=True) as session:
        return actor_of(session, username)


def hash_password(password: str) -> str:
    """The argon2 hash of an acceptable password; the one place password rules live."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def generate_password() -> str:
    """A random password for a new account, to be shown once."""
    return secrets.token_urlsafe(12)


def check_role(role: str) -> None:
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"Unknown role {role!r}: use admin, engineer or viewer.")


def create_user(username: str, role: str, password: str) -> Actor:
    """A new user with an argon2-hashed password."""
    username = username.strip()
    if not username:
        raise InvalidInput("A username is required.")
    check_role(role)
    password_hash = hash_password(password)
    with session_scope() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"A user called {username!r} already exists.")
        user = User(username=username, role=role, password_hash=password_hash)
        session.add(user)
        session.flush()
        return Actor(id=user.id, username=user.username, role=Role(role))


def authenticate(username: str, password: str) -> Actor | None:
    """The user if the password is right, else None (never says which part was wrong)."""
    with session_scope() as session:
        user = session.scalar(select(User).where(User.username == username.strip()))
        if user is None or not user.is_active or not user.password_hash:
            return None
        try:
            _hasher.verify(user.password_hash, password)
        except VerificationError:
            return None
        return Actor(id=user.id, username=user.username, role=Role(user.role))


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
