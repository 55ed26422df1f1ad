"""Notifications and webhooks at the door: what the HTTP API's WebSocket pushes, and where task notices go.

Whoever may launch tasks adds webhooks for their own tasks; webhooks for another user's
tasks or for a whole module are for admins. A webhook's owners (the user it reports on,
whoever added it) and admins list and remove it and read its delivery log. Deliveries
are sent by every worker (core.tasks.webhooks.delivery).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core import encryption
from core.accounts.users import Actor, current_actor, require_admin, require_operator
from core.errors import InvalidInput
from core.tasks import notifications
from core.tasks.webhooks import formats, registry
from db.models import Role

WEBHOOK_KINDS = formats.KINDS
WEBHOOK_EVENTS = tuple(formats.EVENTS)
WEBHOOK_SIGNATURE_HEADER = formats.SIGNATURE_HEADER
MAX_FEED = notifications.MAX_FEED


def notification_feed(after_event_id: int, *, limit: int = MAX_FEED) -> dict[str, Any]:
    """Every user's notifying events after an id: {items, settled}, for the HTTP API's one reader per process.

    Items are {event_id, task_id, user_id, type, created_at, message} with the
    specification's WebSocket message; read again from ``settled``, skipping ids you have.
    """
    feed = notifications.feed(after_event_id, limit=limit)
    return {"items": feed.items, "settled": feed.settled}


def user_notification_feed(user: str, after_event_id: int, *, limit: int = MAX_FEED) -> dict[str, Any]:
    """The notifying events on ``user``'s own tasks after an id: {items, settled} (a reconnecting client)."""
    feed = notifications.feed(after_event_id, user_id=current_actor(user).id, limit=limit)
    return {"items": feed.items, "settled": feed.settled}


def add_webhook(
    url: str, *, kind: str = "generic", events: Sequence[str] | None = None, name: str | None = None,
    secret: str | None = None, owner: str | None = None, module: str | None = None, user: str,
) -> dict[str, Any]:
    """A webhook for ``owner``'s tasks (default: the caller's) or for every task of ``module``.

    ``events`` are some of need_review, failed, completed, review_reminder (default: all). A
    generic webhook without a secret gets one, returned once as "secret"; DingTalk and Feishu
    take an optional signing secret. The URL is shown masked from then on.
    """
    actor = require_operator(current_actor(user), "add webhooks")
    if module is not None and owner is not None:
        raise InvalidInput("A webhook is for one user's tasks or for one module's, not both.")
    if module is not None or (owner is not None and owner != actor.username):
        require_admin(actor, "add webhooks for a module or for another user's tasks")
    user_id = None if module is not None else current_actor(owner or actor.username).id
    return registry.add(kind=kind, url=url, events=events, name=name, secret=secret, user_id=user_id, module=module,
                        created_by=actor.id)


def list_webhooks(*, user: str) -> list[dict[str, Any]]:
    """Webhooks (URLs masked, no secrets): an admin's view has them all, anyone else's their own."""
    actor = current_actor(user)
    return registry.list_webhooks(None if actor.role is Role.ADMIN else actor.id)


def remove_webhook(webhook_id: int, *, user: str) -> dict[str, Any]:
    """Deletes a webhook and its delivery log; its owners or an admin may."""
    _owner_or_admin(current_actor(user), webhook_id, "remove other users' webhooks")
    return registry.remove(webhook_id)


def webhook_deliveries(*, user: str, webhook_id: int | None = None, limit: int = 50,
                       offset: int = 0) -> dict[str, Any]:
    """The delivery log, newest first: {total, items, limit, offset} (status, attempts, HTTP status, error)."""
    actor = current_actor(user)
    if webhook_id is not None:
        _owner_or_admin(actor, webhook_id, "see other users' webhook deliveries")
    owner_id = None if actor.role is Role.ADMIN or webhook_id is not None else actor.id
    return registry.deliveries(webhook_id=webhook_id, owner_id=owner_id, limit=limit, offset=offset)


def new_secret_key() -> str:
    """A fresh key for CASEFLOW_SECRET_KEY, the key that encrypts webhook secrets at rest."""
    return encryption.new_key()


def _owner_or_admin(actor: Actor, webhook_id: int, action: str) -> None:
    if actor.id not in registry.owners(webhook_id):
        require_admin(actor, action)


__all__ = [
    "MAX_FEED", "WEBHOOK_EVENTS", "WEBHOOK_KINDS", "WEBHOOK_SIGNATURE_HEADER", "add_webhook", "list_webhooks",
    "new_secret_key", "notification_feed", "remove_webhook", "user_notification_feed", "webhook_deliveries",
]
