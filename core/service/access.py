"""API tokens at the door: created, listed and revoked by their owner or an admin; checked per HTTP request.

``user=None`` is the operator's command line (``python -m core api-token``), trusted as
admin like the other setup commands.
"""

from __future__ import annotations

from typing import Any

from core.accounts import tokens
from core.accounts.users import Actor, current_actor, require_admin
from db.models import Role

authenticate_token = tokens.authenticate
"""(token) -> the Actor it acts as, or None when it is unknown, revoked or its user is deactivated."""


def create_api_token(username: str, *, name: str | None = None, user: str | None = None) -> dict[str, Any]:
    """A new token for ``username``: {id, username, name, prefix, created_at, ..., token}; the token is shown once.

    Anyone creates their own; creating one for another user is for admins.
    """
    if user is not None:
        _own_or_admin(current_actor(user), username, "create API tokens for other users")
    return tokens.create(username, name)


def list_api_tokens(*, user: str, username: str | None = None) -> list[dict[str, Any]]:
    """Tokens without their value, newest first: the caller's own, or (admins) ``username``'s or everyone's."""
    actor = current_actor(user)
    if username is None and actor.role is not Role.ADMIN:
        username = actor.username
    if username is not None:
        _own_or_admin(actor, username, "see other users' API tokens")
    return tokens.list_tokens(username)


def revoke_api_token(token_id: int, *, user: str) -> dict[str, Any]:
    """Stops a token from working at once; its owner or an admin may."""
    _own_or_admin(current_actor(user), tokens.owner_of(token_id), "revoke other users' API tokens")
    return tokens.revoke(token_id)


def _own_or_admin(actor: Actor, username: str, action: str) -> None:
    if actor.username != username:
        require_admin(actor, action)


__all__ = ["authenticate_token", "create_api_token", "list_api_tokens", "revoke_api_token"]
