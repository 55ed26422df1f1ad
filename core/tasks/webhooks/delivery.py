"""Webhook deliveries: task events fanned out into the delivery log, then sent with retries and backoff.

Every worker runs :func:`run_once` as a scheduler job (core.tasks.worker), so webhooks
fire wherever tasks run, with or without the HTTP API. Several workers share the work
safely: fan-out locks each webhook row (SKIP LOCKED on PostgreSQL; SQLite serialises
writers) and the log is unique per webhook and event; a delivery is claimed by counting
the attempt and pushing its next attempt out (so one whose sender died is tried again
later), and an outcome is written only while that attempt is still the latest. Connections go
only where core.tasks.webhooks.destinations allows (a refused one fails the delivery at once);
secrets are decrypted just for signing.
"""

from __future__ import annotations

import logging
import threading
from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core import encryption
from core.config import Settings
from core.database import session_scope
from core.errors import SecretKeyError
from core.tasks import notifications
from core.tasks.webhooks import destinations, formats
from core.tasks.webhooks.registry import mask_url
from db.models import TaskEvent, User, Webhook, WebhookDelivery, WorkflowTask
from db.types import isoformat, utcnow

log = logging.getLogger(__name__)

FAN_OUT_BATCH = 200
SEND_BATCH = 20
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_sending = ContextVar("sending_webhooks", default=False)


class _MaskWebhookUrls(logging.Filter):
    """httpx logs each request's URL at INFO; while webhooks are sent, it is masked (the URL holds the key)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _sending.get() and isinstance(record.args, tuple):
            record.args = tuple(mask_url(str(arg)) if isinstance(arg, httpx.URL) else arg for arg in record.args)
        return True


logging.getLogger("httpx").addFilter(_MaskWebhookUrls())


@dataclass(frozen=True)
class Attempt:
    """One claimed attempt of a delivery, with what sending it needs."""

    delivery_id: int
    number: int
    kind: str
    url: str
    encrypted_secret: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None  # None: delivered
    final: bool = False  # no retry: the destination is refused


def run_once(settings: Settings, stopping: threading.Event | None = None) -> dict[str, int]:
    """Fans new task events out to the webhooks, then sends the deliveries that are due."""
    return {"queued": fan_out(), "attempted": deliver_due(settings, stopping=stopping)}


def fan_out() -> int:
    """Adds a delivery for each new event each active webhook wants; returns how many."""
    with session_scope(read_only=True) as session:
        if session.scalar(select(Webhook.id).where(Webhook.is_active.is_(True)).limit(1)) is None:
            return 0
    with session_scope() as session:
        hooks = session.scalars(
            select(Webhook).where(Webhook.is_active.is_(True)).order_by(Webhook.id).with_for_update(skip_locked=True)
        ).all()
        added = 0
        for hook in hooks:
            try:
                with session.begin_nested():  # one webhook's trouble never holds up the others
                    added += _fan_out_one(session, hook)
            except Exception:
                log.exception("webhook %s: fanning out events failed; trying again next round", hook.id)
        return added


def _fan_out_one(session: Session, hook: Webhook) -> int:
    """Events after the webhook's cursor; the cursor then moves to the settled id (see core.tasks.notifications)."""
    scope = (WorkflowTask.user_id == hook.user_id if hook.user_id is not None
             else WorkflowTask.input_params["module_id"].as_string() == hook.module)
    rows = session.execute(
        select(TaskEvent, WorkflowTask.thread_id, WorkflowTask.input_params, WorkflowTask.test_case_id, User.username)
        .join(WorkflowTask, WorkflowTask.id == TaskEvent.task_id)
        .join(User, User.id == WorkflowTask.user_id)
        .where(TaskEvent.id > hook.cursor_event_id, scope,
               TaskEvent.type.in_([formats.EVENTS[name] for name in hook.events]))
        .order_by(TaskEvent.id).limit(FAN_OUT_BATCH)
    ).all()
    settled = notifications.settled_event_id(session, hook.cursor_event_id)
    if len(rows) == FAN_OUT_BATCH:
        settled = min(settled, rows[-1][0].id)
    have = set(session.scalars(select(WebhookDelivery.event_id).where(
        WebhookDelivery.webhook_id == hook.id, WebhookDelivery.event_id.in_([row[0].id for row in rows]))))
    added = 0
    for event, thread_id, params, test_case_id, username in rows:
        if event.id in have:
            continue
        item = _notice(event, thread_id, params or {}, test_case_id, username)
        session.add(WebhookDelivery(webhook_id=hook.id, event_id=event.id, task_id=event.task_id, event=item["event"],
                                    status=PENDING, payload=formats.payload(hook.kind, item)))
        added += 1
    hook.cursor_event_id = max(hook.cursor_event_id, settled)
    return added


def _notice(event: TaskEvent, thread_id: str, params: dict[str, Any], test_case_id: int | None,
            username: str) -> dict[str, Any]:
    data = event.data or {}
    task = {
        "id": event.task_id, "thread_id": thread_id, "name": params.get("name") or thread_id,
        "module_id": params.get("module_id"), "scene_id": params.get("scene_id"), "test_case_id": test_case_id,
        "user": username, "status": data.get("status"), "error_message": data.get("error"),
        "new_usercase_id": data.get("new_usercase_id"),
    }
    return formats.notice(formats.EVENT_OF_TYPE[event.type], event.id, isoformat(event.created_at), event.message,
                          task)


def deliver_due(settings: Settings, *, limit: int = SEND_BATCH, stopping: threading.Event | None = None) -> int:
    """Sends up to ``limit`` due deliveries, one attempt each, oldest due first; returns how many.

    Deliveries are claimed one at a time, so a stopping worker (``stopping`` set) leaves
    the rest unclaimed instead of waiting for every receiver.
    """
    attempted = 0
    reset = _sending.set(True)
    with ExitStack() as stack:
        stack.callback(_sending.reset, reset)
        client: httpx.Client | None = None
        while attempted < limit and not (stopping is not None and stopping.is_set()):
            attempt = _claim(settings)
            if attempt is None:
                break
            if client is None:  # only once one is due: a client's TLS context costs tens of milliseconds a round
                client = stack.enter_context(
                    destinations.client(destinations.Policy.of(settings), settings.webhook_timeout_seconds))
            _record(attempt, _send(client, attempt), settings)
            attempted += 1
    return attempted


def _claim(settings: Settings) -> Attempt | None:
    """The oldest due delivery, its attempt counted and its next one pushed out."""
    now = utcnow()
    due = (WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now, Webhook.is_active.is_(True))
    query = (select(WebhookDelivery, Webhook).join(Webhook, Webhook.id == WebhookDelivery.webhook_id).where(*due)
             .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(1))
    with session_scope(read_only=True) as session:  # most rounds find nothing: no write lock for that
        if session.execute(query).first() is None:
            return None
    with session_scope() as session:
        found = session.execute(query.with_for_update(of=WebhookDelivery, skip_locked=True)).first()
        if found is None:
            return None
        delivery, hook = found
        delivery.attempts += 1
        delivery.last_attempt_at = now
        # due again only if this sender dies before recording the outcome
        delivery.next_attempt_at = now + timedelta(seconds=2 * settings.webhook_timeout_seconds + 30)
        return Attempt(delivery.id, delivery.attempts, hook.kind, hook.url, hook.encrypted_secret, delivery.payload)


def _send(client: httpx.Client, attempt: Attempt) -> Outcome:
    try:
        secret = encryption.decrypt(attempt.encrypted_secret) if attempt.encrypted_secret else None
    except SecretKeyError as error:
        log.error("webhook delivery %s: %s", attempt.delivery_id, error.message)
        return Outcome(None, error.message)
    request = formats.request(attempt.kind, attempt.url, attempt.payload, secret, attempt.delivery_id, utcnow())
    try:
        response = client.post(request.url, content=request.content, headers=request.headers)
    except httpx.HTTPError as error:
        text = _redacted(f"{type(error).__name__}: {error}", attempt.url, request.url, secret)
        return Outcome(None, text, final=destinations.refused(error))
    refusal = formats.refusal(attempt.kind, response.status_code, response.text)
    return Outcome(response.status_code, None if refusal is None else _redacted(refusal, attempt.url, request.url,
                                                                                    secret))


def _redacted(text: str, url: str, signed_url: str, secret: str | None) -> str:
    """An error as the log may keep it: no URL key, no secret."""
    masked = mask_url(url)
    text = text.replace(signed_url, masked).replace(url, masked)
    return text.replace(secret, "•••") if secret else text


def _record(attempt: Attempt, outcome: Outcome, settings: Settings) -> None:
    now = utcnow()
    values: dict[str, Any] = {"response_status": outcome.status_code, "error": outcome.error}
    if outcome.error is None:
        values.update(status=DELIVERED, delivered_at=now)
    elif outcome.final or attempt.number >= settings.webhook_max_attempts:
        values.update(status=FAILED)
    else:
        values.update(next_attempt_at=now + timedelta(seconds=backoff_seconds(attempt.number, settings)))
    with session_scope() as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == attempt.delivery_id, WebhookDelivery.attempts == attempt.number,
                   WebhookDelivery.status == PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if outcome.error is None:
        log.info("webhook delivery %s sent (attempt %s)", attempt.delivery_id, attempt.number)
    else:
        log.warning("webhook delivery %s attempt %s: %s", attempt.delivery_id, attempt.number, outcome.error)


def backoff_seconds(attempt: int, settings: Settings) -> float:
    """The wait after failed attempt ``attempt``: WEBHOOK_BACKOFF_SECONDS, doubling, at most the maximum."""
    return min(settings.webhook_backoff_seconds * 2 ** (attempt - 1), settings.webhook_backoff_max_seconds)


def prune(days: int) -> int:
    """Removes finished deliveries older than the retention; returns how many."""
    cutoff = utcnow() - timedelta(days=days)
    with session_scope() as session:
        return session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff, WebhookDelivery.status != PENDING)
        ).rowcount
