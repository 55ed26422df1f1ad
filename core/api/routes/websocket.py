"""WebSocket /api/v1/ws/{user_id}?token=TOKEN[&since=EVENT_ID]: the specification's messages for a user's tasks.

Each message is {"type", "data"} as the specification shows (workflow_started,
workflow_need_review, workflow_failed, workflow_completed) plus "event_id"; a client that
reconnects with ?since=<the last event_id it got> first receives what it missed. A wrong
token or another user's id closes the socket with 1008 (policy violation).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from core import service
from core.api.hub import EventHub, Subscription
from core.api.metrics import ApiMetrics
from core.service import Actor

router = APIRouter()
TOO_SLOW = 1013  # "try again later": the socket fell too far behind


@router.websocket("/api/v1/ws/{user_id}")
async def notifications(
    websocket: WebSocket, user_id: int, token: Annotated[str | None, Query()] = None,
    since: Annotated[int | None, Query(ge=0)] = None,
) -> None:
    await websocket.accept()
    actor = await _caller(websocket, token)
    if actor is None or actor.id != user_id:
        reason = "unknown or revoked token" if actor is None else "this token is not for that user"
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
        return
    hub: EventHub = websocket.app.state.hub
    metrics: ApiMetrics = websocket.app.state.metrics
    metrics.websockets.inc()
    try:
        with hub.subscribe(actor.id) as subscription:
            sent = await _replay(websocket, actor, since, metrics) if since is not None else set()
            await _stream(websocket, subscription, sent, metrics)
    except WebSocketDisconnect:
        pass
    finally:
        metrics.websockets.dec()


async def _caller(websocket: WebSocket, token: str | None) -> Actor | None:
    """The token's user; the token comes in ?token= (browsers) or an Authorization: Bearer header."""
    header = websocket.headers.get("authorization", "")
    token = token or (header[7:] if header.lower().startswith("bearer ") else None)
    return await run_in_threadpool(service.authenticate_token, token) if token else None


async def _replay(websocket: WebSocket, actor: Actor, since: int, metrics: ApiMetrics) -> set[int]:
    """Sends the user's messages after ``since``; returns their ids, which the live stream then skips."""
    sent: set[int] = set()
    after = since
    while True:
        page = await run_in_threadpool(service.user_notification_feed, actor.username, after)
        for item in page["items"]:
            await _send(websocket, item, metrics)
            sent.add(item["event_id"])
            after = item["event_id"]
        if len(page["items"]) < service.MAX_FEED:
            return sent


async def _stream(websocket: WebSocket, subscription: Subscription, skip: set[int], metrics: ApiMetrics) -> None:
    """Pushes live messages until the client goes away (or falls too far behind)."""
    pusher = asyncio.create_task(_push(websocket, subscription, skip, metrics))
    listener = asyncio.create_task(_until_disconnect(websocket))
    done, pending = await asyncio.wait({pusher, listener}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await task
    for task in done:
        task.result()


async def _push(websocket: WebSocket, subscription: Subscription, skip: set[int], metrics: ApiMetrics) -> None:
    while True:
        item = await subscription.queue.get()
        if subscription.overflowed:
            await websocket.close(code=TOO_SLOW, reason="too far behind: reconnect with ?since=<last event_id>")
            return
        if item["event_id"] not in skip:
            await _send(websocket, item, metrics)


async def _until_disconnect(websocket: WebSocket) -> None:
    """Reads (and ignores) what the client sends, to notice when it closes."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _send(websocket: WebSocket, item: dict[str, Any], metrics: ApiMetrics) -> None:
    await websocket.send_json({"event_id": item["event_id"], **item["message"]})
    metrics.messages.labels(item["type"]).inc()
