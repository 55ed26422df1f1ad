"""One reader of task_events per API process, handing each user's messages to their open WebSockets.

Events come from every worker process through the database, so every API process sees
all of them. The hub follows the feed of :func:`core.service.notification_feed`: it
reads again from the settled id and skips the event ids it has already handed out, so a
late commit (a lower id appearing after a higher one) is delivered, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool

from core import service

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
"""Messages a socket may fall behind by before it is closed (the client reconnects with ?since=)."""


class Subscription:
    """One open socket's queue of messages."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, item: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


class EventHub:
    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._subscriptions: dict[int, set[Subscription]] = defaultdict(set)
        self._cursor = 0  # set by start()
        self._seen: set[int] = set()

    @contextmanager
    def subscribe(self, user_id: int) -> Iterator[Subscription]:
        subscription = Subscription(user_id)
        self._subscriptions[user_id].add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions[user_id].discard(subscription)
            if not self._subscriptions[user_id]:
                del self._subscriptions[user_id]

    async def start(self) -> None:
        """Starts from the newest event: a socket asks for older messages with ?since=."""
        self._cursor = await run_in_threadpool(service.latest_event_id)

    async def run(self) -> None:
        """Polls until cancelled; a failed read (the database restarting, say) is retried next round."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.poll()
            except Exception:
                log.warning("reading task events failed; trying again in %.1fs", self.poll_seconds, exc_info=True)

    async def poll(self) -> None:
        page = await run_in_threadpool(service.notification_feed, self._cursor)
        for item in page["items"]:
            if item["event_id"] in self._seen:
                continue
            self._seen.add(item["event_id"])
            for subscription in list(self._subscriptions.get(item["user_id"], ())):
                subscription.offer(item)
        self._cursor = max(self._cursor, page["settled"])
        self._seen = {event_id for event_id in self._seen if event_id > self._cursor}
