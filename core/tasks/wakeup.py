"""Tells workers that a task became runnable (started, reviewed, retried), instead of at their next poll.

One call, :func:`notify`, reaches every executor the configuration names:

- this process's worker, always (the listeners subscribed here);
- on PostgreSQL (PG_NOTIFY, on by default), every idle ``python -m core worker`` process:
  ``NOTIFY caseflow_tasks`` reaches the :class:`Listener` thread each of them runs;
- with TASK_EXECUTOR=celery, a Celery message "run or resume task N" over Redis.

A wake-up is only a hint: the task row stays the source of truth, so a lost wake-up
delays a task until the next poll (or the Celery sweep), never loses it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.config import get_settings
from core.database import database
from core.workflow.checkpointer import libpq_url
from db.session import Database

log = logging.getLogger(__name__)

CHANNEL = "caseflow_tasks"
NOTIFY = text("SELECT pg_notify(:channel, :payload)")
LISTEN_TIMEOUT_SECONDS = 1.0  # how often the listener looks at its stop flag
RECONNECT_SECONDS = 2.0

_listeners: list[Callable[[], None]] = []
_lock = threading.Lock()


def subscribe(listener: Callable[[], None]) -> None:
    with _lock:
        _listeners.append(listener)


def unsubscribe(listener: Callable[[], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def notify(task_id: int | None = None, *, published: bool = False) -> None:
    """Called after a task becomes runnable; ``task_id`` names it (None: some tasks, e.g. the queue resumed).

    ``published``: the transaction that made it runnable sent the NOTIFY already (:func:`publish_in`).
    """
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener()
    settings = get_settings()
    if not published and _notifies():
        publish(database(), task_id)
    if settings.task_executor == "celery" and task_id is not None:
        from core.tasks import celery_executor  # Celery is imported only where it is configured

        celery_executor.send(task_id)


def publish_in(session: Session, task_id: int) -> bool:
    """Queues the NOTIFY in ``session``'s transaction (sent when it commits, never if it rolls back), so
    that a start is one commit, not two; True when it did (PostgreSQL with PG_NOTIFY)."""
    if not _notifies():
        return False
    session.execute(NOTIFY, _payload(task_id))
    return True


def publish(db: Database, task_id: int | None) -> None:
    """NOTIFY the worker processes; a failure is logged (they still poll)."""
    try:
        with db.engine.begin() as connection:
            connection.execute(NOTIFY, _payload(task_id))
    except SQLAlchemyError:
        log.warning("could not NOTIFY %s for task %s", CHANNEL, task_id, exc_info=True)


def _notifies() -> bool:
    """Whether starts and reviews NOTIFY the workers: on PostgreSQL, unless PG_NOTIFY is off."""
    return not database().is_sqlite and get_settings().pg_notify


def _payload(task_id: int | None) -> dict[str, str]:
    return {"channel": CHANNEL, "payload": "" if task_id is None else str(task_id)}


class Listener(threading.Thread):
    """LISTENs on PostgreSQL and calls ``on_notify`` for every wake-up, reconnecting when the server goes away.

    After each (re)connection it calls ``on_notify`` once too: a wake-up sent while it was
    not listening is not queued for it.
    """

    def __init__(self, db: Database, on_notify: Callable[[], None]) -> None:
        super().__init__(name="caseflow-listen", daemon=True)
        self._conninfo = libpq_url(db)
        self._on_notify = on_notify
        self._halt = threading.Event()
        self.listening = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=LISTEN_TIMEOUT_SECONDS * 5)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._listen()
            except psycopg.Error:
                log.warning("LISTEN %s lost its connection; reconnecting", CHANNEL, exc_info=True)
            finally:
                self.listening.clear()
            self._halt.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            self._on_notify()
            while not self._halt.is_set():
                for _ in connection.notifies(timeout=LISTEN_TIMEOUT_SECONDS):
                    self._on_notify()
