"""Managing users: admins add users, change roles, deactivate and reset passwords; anyone changes their own.

Who may call these is checked at the service door (core.service.admin). The last active
admin can never be demoted or deactivated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import inputs
from core.accounts import sessions, users
from core.accounts.users import Actor, check_role, hash_password
from core.database import session_scope
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from db.models import Role, User
from db.types import isoformat


def list_users() -> list[dict[str, Any]]:
    """Every user, by name: {id, username, role, is_active, created_at}."""
    with session_scope(read_only=True) as session:
        rows = session.scalars(select(User).order_by(User.username)).all()
        return [_user(row) for row in rows]


def usernames() -> list[str]:
    """Active users' names, for owner filters."""
    with session_scope() as session:
        return list(session.scalars(select(User.username).where(User.is_active.is_(True)).order_by(User.username)))


def add_user(username: str, role: str, password: str) -> dict[str, Any]:
    actor = users.create_user(username, role, password)
    return {"id": actor.id, "username": actor.username, "role": actor.role.value, "is_active": True}


def update_user(
    admin: Actor, username: str, *, role: str | None = None, active: bool | None = None, password: str | None = None
) -> dict[str, Any]:
    """Changes a user's role, whether they can sign in, or their password (admins only)."""
    username = inputs.text(username, "The username")
    if active is not None and not isinstance(active, bool):
        raise InvalidInput("Whether the user is active must be true or false.")
    password_hash = None if password is None else hash_password(password, username)
    with session_scope() as session:
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        if user is None:
            raise NotFound("No user called {username!r}.", username=username)
        if role is not None:
            check_role(role)
            if user.role == Role.ADMIN.value and role != Role.ADMIN.value:
                _keep_an_admin(session, user, "demote")
            user.role = role
        if active is not None and active != user.is_active:
            if not active:
                if user.id == admin.id:
                    raise Conflict("You cannot deactivate yourself; ask another admin.")
                if user.role == Role.ADMIN.value:
                    _keep_an_admin(session, user, "deactivate")
            user.is_active = active
        if password_hash is not None:
            user.password_hash = password_hash
        result = _user(user)
    if password_hash is not None or active is False:  # a reset password or a closed account signs out everywhere
        sessions.revoke_all(result["id"])
    return result


def change_password(username: str, current: str, new: str, *, keep_session: int | None = None) -> int:
    """A user changes their own password, proving they know the current one.

    Every other dashboard session of theirs ends (``keep_session``, the one they changed it
    from, stays); returns how many ended.
    """
    if users.authenticate(username, current) is None:
        raise Forbidden("The current password is wrong.")
    if new == current:
        raise InvalidInput("The new password is the same as the current one.")
    password_hash = hash_password(new, username)
    with session_scope() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound("No user called {username!r}.", username=username)
        user.password_hash = password_hash
        user_id = user.id
    return sessions.revoke_all(user_id, keep=keep_session)


def _keep_an_admin(session: Session, user: User, verb: str) -> None:
    admins = session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    )
    if user.is_active and admins <= 1:
        raise Conflict("Cannot {verb} {user_username}: they are the last active admin.",
                       verb=verb, user_username=user.username)


def _user(user: User) -> dict[str, Any]:
    return {
        "id": user.id, "username": user.username, "role": user.role, "is_active": user.is_active,
        "created_at": isoformat(user.created_at),
    }
