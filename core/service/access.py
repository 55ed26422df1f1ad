"""Access at the door: dashboard sessions, single sign-on, and API tokens.

Dashboard sessions (core.accounts.sessions) start when a password or single sign-on is
accepted and end at sign-out, expiry, or a password change. API tokens are created,
listed and revoked by their owner or an admin, and checked per HTTP request.

``user=None`` is the operator's command line (``python -m core api-token``), trusted as
admin like the other setup commands.
"""

from __future__ import annotations

from typing import Any

from core.accounts import sessions, sso, tokens
from core.accounts.users import Actor, current_actor, require_admin
from db.models import Role

authenticate_token = tokens.authenticate
"""(token) -> the Actor it acts as, or None when it is unknown, revoked or its user is deactivated."""
SESSION_COOKIE = sessions.COOKIE_NAME
redeem_session_grant = sessions.redeem
"""(grant, now=None) -> the signed session cookie's value, once per grant within a minute of sign-in; else None."""
end_session = sessions.revoke
"""(cookie, now=None) -> whether a live session ended: signing out."""
sso_sign_in = sso.actor_for
"""(ID-token claims) -> the CaseFlow user single sign-on signs in (created or re-roled per SSO_ROLE_MAP);
Forbidden, saying why, for a deactivated account or one no setting admits."""


def start_session(username: str, *, address: str | None = None) -> str:
    """A dashboard session for the active user ``username``, just signed in; returns its one-time grant,
    which the browser exchanges for the session cookie at /auth/session (``redeem_session_grant``)."""
    return sessions.start(current_actor(username), address)


def session_actor(cookie: str | None) -> Actor | None:
    """The user a session cookie signs in, as the database has them now; None when it names no live session."""
    signed = sessions.authenticate(cookie)
    return None if signed is None else signed.actor


def session_lifetime_seconds() -> int:
    """How long a session cookie lasts (SESSION_HOURS): its Max-Age."""
    return int(sessions.lifetime().total_seconds())


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


__all__ = ["SESSION_COOKIE", "authenticate_token", "create_api_token", "end_session", "list_api_tokens",
           "redeem_session_grant", "revoke_api_token", "session_actor", "session_lifetime_seconds", "sso_sign_in",
           "start_session"]
