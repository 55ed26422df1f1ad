"""Single sign-on: the claims of an OpenID Connect ID token (Streamlit's ``st.user``) mapped to a CaseFlow user.

The username is the SSO_USERNAME_CLAIM claim (Keycloak's ``preferred_username`` by
default). The roles come from SSO_ROLES_CLAIM (a list of groups or roles, or one string)
through SSO_ROLE_MAP; the highest mapped role wins and is written to the account at every
sign-in, so the identity provider's groups stay the source of truth. Without a mapped
group an existing account keeps its role and a new one gets SSO_DEFAULT_ROLE ("none":
refused). Accounts made here have no password, so only single sign-on opens them; a
deactivated account stays closed. The last active admin is never demoted this way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from core.accounts.users import Actor, check_username
from core.config import get_settings
from core.database import session_scope
from core.errors import Forbidden, InvalidInput
from db.models import Role, User

log = logging.getLogger(__name__)

RANK = {Role.VIEWER.value: 0, Role.ENGINEER.value: 1, Role.ADMIN.value: 2}


def actor_for(claims: Mapping[str, Any]) -> Actor:
    """The CaseFlow user these ID-token claims sign in, created or given their mapped role as needed."""
    settings = get_settings()
    try:
        username = check_username(claims.get(settings.sso_username_claim))
    except InvalidInput:
        raise Forbidden("The sign-in carries no usable {claim!r} claim; "
                        "ask an admin to check the single sign-on settings.",
                        claim=settings.sso_username_claim) from None
    mapped = mapped_role(claims.get(settings.sso_roles_claim))
    with session_scope() as session:
        user = session.scalar(select(User).where(func.lower(User.username) == username.lower()).with_for_update())
        if user is None:
            role = mapped or settings.sso_default_role
            if role == "none":
                raise Forbidden("{username} may not use CaseFlow: no group of theirs is mapped to a role.",
                                username=username)
            user = User(username=username, role=role, password_hash=None, is_active=True)
            session.add(user)
            session.flush()
            log.info("single sign-on created user %s as %s", user.username, role)
        elif not user.is_active:
            raise Forbidden("{username}'s account is deactivated; ask an admin.", username=user.username)
        elif mapped and mapped != user.role and not _last_admin(session, user, mapped):
            log.info("single sign-on changed %s's role from %s to %s", user.username, user.role, mapped)
            user.role = mapped
        return Actor(id=user.id, username=user.username, role=Role(user.role))


def mapped_role(groups: object) -> str | None:
    """The highest role SSO_ROLE_MAP gives any of ``groups`` (a list, or one string); None when none maps."""
    names = [groups] if isinstance(groups, str) else groups if isinstance(groups, list) else []
    role_map = get_settings().sso_role_map
    roles = [role_map[name] for name in names if isinstance(name, str) and name in role_map]
    return max(roles, key=RANK.__getitem__) if roles else None


def _last_admin(session: Any, user: User, new_role: str) -> bool:
    """Whether giving ``user`` ``new_role`` would leave no active admin."""
    if user.role != Role.ADMIN.value or new_role == Role.ADMIN.value:
        return False
    admins = session.scalar(select(func.count()).select_from(User)
                            .where(User.role == Role.ADMIN.value, User.is_active.is_(True)))
    return (admins or 0) <= 1
