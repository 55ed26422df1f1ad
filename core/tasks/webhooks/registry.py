"""Webhooks: added, listed and removed, and their delivery log.

A webhook's URL must lead to a public address (core.tasks.webhooks.destinations) and is shown
masked (chat webhooks carry their key in it). Its secret is stored encrypted (core.encryption)
and returned once, when CaseFlow generated it. Who may do what is checked at the service door.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import encryption, inputs, paging
from core.config import get_settings
from core.database import session_scope
from core.errors import InvalidInput, NotFound
from core.messages import phrase
from core.tasks.webhooks import destinations
from core.tasks.webhooks.formats import EVENTS, KINDS, SIGNING
from db.models import TaskEvent, User, Webhook, WebhookDelivery
from db.types import isoformat

MAX_NAME_LENGTH = 100
MAX_SECRET_LENGTH = 200


def add(*, kind: str, url: str, events: Sequence[str] | None, name: str | None, secret: str | None,
        user_id: int | None, module: str | None, created_by: int | None) -> dict[str, Any]:
    """A new webhook for one user's tasks (``user_id``) or one module's (``module``).

    It is told about events from now on. A generic webhook without a ``secret`` gets a
    generated one, returned once as "secret".
    """
    chosen = _checked_events(events)
    generated = None
    if kind not in KINDS:
        raise InvalidInput("Unknown webhook kind {kind!r}: use one of {value}.", kind=kind, value=', '.join(KINDS))
    if secret is not None and kind not in SIGNING:
        raise InvalidInput("{kind} webhooks are not signed; leave the secret out (the key is in the URL).", kind=kind)
    if kind == "generic" and not secret:
        secret = generated = secrets.token_urlsafe(32)
    if secret is not None and (inputs.text_problem(secret, "The secret", single_line=True)
                               or not 16 <= len(secret) <= MAX_SECRET_LENGTH):
        raise InvalidInput("A webhook secret is plain text of 16 to {max_secret_length} characters on one line.",
                           max_secret_length=MAX_SECRET_LENGTH)
    label = _checked_text((name or "").strip(), phrase("The webhook's name"), MAX_NAME_LENGTH)
    module = _checked_text(module.strip(), phrase("The webhook's module"), 100) if module is not None else None
    if (user_id is None) == (not module):
        raise InvalidInput("A webhook is for one user's tasks or for one module's, not both or neither.")
    url = destinations.checked_url(url, destinations.Policy.of(get_settings()))
    encrypted = encryption.encrypt(secret) if secret else None
    with session_scope() as session:
        row = Webhook(
            kind=kind, url=url, encrypted_secret=encrypted, events=chosen, name=label, user_id=user_id,
            module=module or None, created_by=created_by, is_active=True,
            cursor_event_id=session.scalar(select(func.max(TaskEvent.id))) or 0,
        )
        session.add(row)
        session.flush()
        result = _webhook(row, _names(session, [row]))
    return {**result, "secret": generated} if generated else result


def list_webhooks(owner_id: int | None = None) -> list[dict[str, Any]]:
    """Every webhook, or those for or by the user ``owner_id``, oldest first."""
    query = select(Webhook).order_by(Webhook.id)
    if owner_id is not None:
        query = query.where(or_(Webhook.user_id == owner_id, Webhook.created_by == owner_id))
    with session_scope(read_only=True) as session:
        rows = session.scalars(query).all()
        names = _names(session, rows)
        return [_webhook(row, names) for row in rows]


def owners(webhook_id: int) -> set[int]:
    """The users a webhook belongs to: the one whose tasks it reports, and whoever added it."""
    with session_scope(read_only=True) as session:
        row = session.get(Webhook, webhook_id)
        if row is None:
            raise NotFound("No webhook with id {webhook_id}.", webhook_id=webhook_id)
        return {user_id for user_id in (row.user_id, row.created_by) if user_id is not None}


def remove(webhook_id: int) -> dict[str, Any]:
    """Deletes a webhook with its delivery log; returns what it was."""
    with session_scope() as session:
        row = session.get(Webhook, webhook_id)
        if row is None:
            raise NotFound("No webhook with id {webhook_id}.", webhook_id=webhook_id)
        removed = _webhook(row, _names(session, [row]))
        session.delete(row)
        return removed


def deliveries(*, webhook_id: int | None = None, owner_id: int | None = None, limit: int = 50,
               offset: int = 0) -> dict[str, Any]:
    """The delivery log, newest first: {total, items, limit, offset}; payloads are not repeated here."""
    paging.check(limit, offset)
    filters = []
    if webhook_id is not None:
        filters.append(WebhookDelivery.webhook_id == webhook_id)
    if owner_id is not None:
        filters.append(or_(Webhook.user_id == owner_id, Webhook.created_by == owner_id))
    base = select(WebhookDelivery, Webhook.name).join(Webhook, Webhook.id == WebhookDelivery.webhook_id).where(*filters)
    with session_scope(read_only=True) as session:
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = session.execute(base.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)).all()
        items = [_delivery(row, name) for row, name in rows]
    return {"total": total, "items": items, "limit": limit, "offset": offset}


def mask_url(url: str) -> str:
    """https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…  ->  https://qyapi.weixin.qq.com/…3f2a"""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…{url[-4:]}"


def _checked_events(chosen: Sequence[str] | None) -> list[str]:
    if chosen is None:
        return list(EVENTS)
    unknown = [name for name in chosen if name not in EVENTS]
    if unknown or not chosen:
        if unknown:
            raise InvalidInput("Webhook events are one or more of {events}, not {event!r}.",
                               events=", ".join(EVENTS), event=unknown[0])
        raise InvalidInput("Webhook events are one or more of {events}.", events=", ".join(EVENTS))
    return [name for name in EVENTS if name in chosen]


def _checked_text(value: str, label: str, limit: int) -> str:
    return inputs.text(value, label, limit=limit, single_line=True)


def _names(session: Session, rows: Sequence[Webhook]) -> dict[int, str]:
    ids = {user_id for row in rows for user_id in (row.user_id, row.created_by) if user_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def _webhook(row: Webhook, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "kind": row.kind, "url": mask_url(row.url), "events": list(row.events),
        "scope": "user" if row.user_id is not None else "module",
        "user": names.get(row.user_id) if row.user_id is not None else None, "module": row.module,
        "signed": row.encrypted_secret is not None, "active": row.is_active,
        "created_by": names.get(row.created_by) if row.created_by is not None else None,
        "created_at": isoformat(row.created_at),
    }


def _delivery(row: WebhookDelivery, webhook_name: str) -> dict[str, Any]:
    return {
        "id": row.id, "webhook_id": row.webhook_id, "webhook": webhook_name, "event": row.event,
        "event_id": row.event_id, "task_id": row.task_id, "status": row.status, "attempts": row.attempts,
        "response_status": row.response_status, "error": row.error, "created_at": isoformat(row.created_at),
        "last_attempt_at": isoformat(row.last_attempt_at), "delivered_at": isoformat(row.delivered_at),
        "next_attempt_at": isoformat(row.next_attempt_at) if row.status == "pending" else None,
    }
