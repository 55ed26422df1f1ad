"""Personal API tokens: created and shown once, stored as a SHA-256 digest, revoked, and checked per request.

A token is 32 random bytes from ``secrets`` (256 bits), so a plain SHA-256 digest is
enough to store it: unlike a password it cannot be guessed, and a fast digest lets
every request find its token by an indexed lookup. A token acts as its user, with the
user's role as the database has it now: a deactivated user's tokens stop working.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from core.accounts.users import Actor, actor_of
from core.database import session_scope
from core.errors import InvalidInput, NotFound
from db.models import ApiToken, Role, User
from db.types import isoformat, utcnow

TOKEN_PREFIX = "cf_"
SHOWN_PREFIX = 10
"""How many leading characters of a token the settings page shows (never enough to use it)."""
MAX_TOKEN_LENGTH = 200
MAX_NAME_LENGTH = 100
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token, not on every request."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(username: str, name: str | None) -> dict[str, Any]:
    """A new token for the active user ``username``; the result's "token" is the only time it is shown."""
    label = (name or "").strip()
    if len(label) > MAX_NAME_LENGTH:
        raise InvalidInput("The token's name has {label_count} characters; at most {max_name_length} are "
                           "allowed.",
                           label_count=len(label), max_name_length=MAX_NAME_LENGTH)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session_scope() as session:
        actor = actor_of(session, username)
        row = ApiToken(user_id=actor.id, name=label, token_hash=digest(token), prefix=token[:SHOWN_PREFIX])
        session.add(row)
        session.flush()
        return {**_token(row, actor.username), "token": token}


def list_tokens(username: str | None = None) -> list[dict[str, Any]]:
    """Tokens (never their value), newest first: one user's, or everyone's."""
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if username is not None:
        query = query.where(User.username == username)
    with session_scope(read_only=True) as session:
        rows = session.execute(query.order_by(ApiToken.id.desc())).all()
        return [_token(row, owner) for row, owner in rows]


def owner_of(token_id: int) -> str:
    """The username a token belongs to."""
    with session_scope(read_only=True) as session:
        owner = session.scalar(select(User.username).join(ApiToken, ApiToken.user_id == User.id)
                               .where(ApiToken.id == token_id))
    if owner is None:
        raise NotFound("No API token with id {token_id}.", token_id=token_id)
    return owner


def revoke(token_id: int) -> dict[str, Any]:
    """Stops a token from working; revoking it again changes nothing."""
    with session_scope() as session:
        found = session.execute(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                                .where(ApiToken.id == token_id)).first()
        if found is None:
            raise NotFound("No API token with id {token_id}.", token_id=token_id)
        row, owner = found
        row.revoked_at = row.revoked_at or utcnow()
        return _token(row, owner)


def authenticate(token: str) -> Actor | None:
    """The active user a live token belongs to, else None (never says why)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    with session_scope(read_only=True) as session:
        found = session.execute(
            select(ApiToken.id, ApiToken.last_used_at, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None), User.is_active.is_(True))
        ).first()
    if found is None:
        return None
    token_id, last_used_at, user = found
    now = utcnow()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        with session_scope() as session:
            session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return Actor(id=user.id, username=user.username, role=Role(user.role))


def _token(row: ApiToken, username: str) -> dict[str, Any]:
    return {
        "id": row.id, "username": username, "name": row.name, "prefix": row.prefix,
        "created_at": isoformat(row.created_at), "last_used_at": isoformat(row.last_used_at),
        "revoked_at": isoformat(row.revoked_at),
    }
