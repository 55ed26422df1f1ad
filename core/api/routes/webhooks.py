"""Webhooks: added, listed and removed, and their delivery log (what the settings page and the CLI do)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from core import service
from core.api.auth import Caller
from core.api.schemas.common import MAX_ID, MAX_OFFSET, PathId, errors
from core.api.schemas.webhooks import DeliveryPage, Webhook, WebhookCreated, WebhookRequest
from core.service import MAX_PAGE

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=errors(401, 422))


@router.post("", status_code=201, response_model=WebhookCreated, responses=errors(400, 403, 404))
def add(body: WebhookRequest, caller: Caller) -> dict[str, Any]:
    """Adds a webhook for your tasks, another user's (admins) or a module's (admins).

    The URL must lead to a public address unless the operator allows more (422 otherwise). A
    generic webhook's generated secret is in this answer and never again.
    """
    return service.add_webhook(body.url, kind=body.kind, events=body.events, name=body.name, secret=body.secret,
                               owner=body.owner, module=body.module, user=caller.username)


@router.get("", response_model=list[Webhook])
def webhooks(caller: Caller) -> list[dict[str, Any]]:
    """Your webhooks (an admin's: all), oldest first, URLs masked."""
    return service.list_webhooks(user=caller.username)


@router.get("/deliveries", response_model=DeliveryPage, responses=errors(403, 404))
def deliveries(caller: Caller, webhook_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
               offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> dict[str, Any]:
    """The delivery log, newest first: status, attempts, the last HTTP status and error."""
    return service.webhook_deliveries(user=caller.username, webhook_id=webhook_id, limit=limit, offset=offset)


@router.delete("/{webhook_id}", response_model=Webhook, responses=errors(403, 404))
def remove(webhook_id: PathId, caller: Caller) -> dict[str, Any]:
    """Removes a webhook and its delivery log (its owners or an admin)."""
    return service.remove_webhook(webhook_id, user=caller.username)
