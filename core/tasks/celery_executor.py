"""The Celery executor (TASK_EXECUTOR=celery, REDIS_URL): a message "run or resume task N" per runnable task.

Celery only carries the message. The task row, its lease and the checkpoints stay the
source of truth: a Celery worker claims exactly the named task through
:func:`core.tasks.lifecycle.claim_task` (a message for a task already running, finished
or not runnable yet does nothing), runs it with the same TaskRunner as the APScheduler
worker, and extends the lease from a thread while it runs, so every write is fenced on
the claim as before.

Delivery: late acks, one message prefetched per slot, reject-on-worker-lost, and a
visibility timeout (CELERY_VISIBILITY_TIMEOUT) above the longest step. A worker killed
mid-step leaves its message unacknowledged and its lease expiring; the sweep each Celery
worker process runs (one at a time fleet-wide, under a Redis lock) requeues expired leases
and sends the message again for pending tasks nobody took (a lost message, a task
released at shutdown), so a task is never stranded.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import redis
from celery import Celery
from celery.signals import worker_shutting_down
from kombu.exceptions import OperationalError as BrokerUnavailable
from sqlalchemy import or_, select

from core.accounts import sessions
from core.config import Settings, get_settings
from core.database import session_scope
from core.errors import InvalidInput
from core.tasks import cleanup, lifecycle, queue_control, review_deadlines
from core.tasks.lifecycle import Claim
from core.tasks.runner import TaskRunner
from db.models import TaskStatus, WorkflowTask
from db.models import Worker as WorkerRow
from db.types import utcnow

log = logging.getLogger(__name__)

TASK_NAME = "caseflow.run_task"
QUEUE = "caseflow"
SWEEP_LOCK = "caseflow:sweep"
SENT_KEY = "caseflow:sent:{}"
"""Set for CELERY_RESEND_SECONDS whenever a task's message is sent: the sweep sends again only after it expires."""
RESEND_BATCH = 200
CLEANUP_AT = (3, 17)  # UTC, as core.tasks.worker's cleanup job
CLEANUP_KEY = "caseflow:cleanup:{}"


def broker_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise InvalidInput("TASK_EXECUTOR=celery needs REDIS_URL (e.g. redis://127.0.0.1:6379/0).")
    return settings.redis_url


@lru_cache(maxsize=4)
def celery_app(url: str, visibility_timeout: int) -> Celery:
    """The Celery application for a broker; the same in the processes that send and those that run."""
    app = Celery("caseflow", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        task_default_queue=QUEUE,
        task_ignore_result=True,
        task_send_sent_event=True,  # Flower shows the messages too
        worker_send_task_events=True,
        broker_connection_retry_on_startup=True,
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0, "interval_step": 0.5},
        worker_hijack_root_logger=False,
    )
    app.task(name=TASK_NAME, ignore_result=True)(run_task)
    return app


def current_app() -> Celery:
    settings = get_settings()
    return celery_app(broker_url(settings), settings.celery_visibility_timeout)


def send(task_id: int, at: datetime | None = None) -> None:
    """Sends "run or resume task N" (not before ``at``); a broker that does not answer is logged: the sweep resends."""
    settings = get_settings()
    try:
        current_app().send_task(TASK_NAME, args=[task_id], eta=at)
        _redis(broker_url(settings)).set(SENT_KEY.format(task_id), 1, ex=max(int(settings.celery_resend_seconds), 1))
    except (OSError, redis.RedisError, BrokerUnavailable, InvalidInput) as error:
        log.warning("could not send the message for task %s (the sweep sends it again): %s", task_id, error)


def run_task(task_id: int) -> str:
    """The Celery task: claims task ``task_id`` if it is runnable and runs it; what happened, for the worker's log."""
    runtime = _runtime
    if runtime is None:
        raise RuntimeError("caseflow.run_task runs only in `python -m core celery-worker`")
    return runtime.run(task_id)


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


class CeleryRuntime:
    """What one `python -m core celery-worker` process holds: its id, the runner, the sweep."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.id = f"celery:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.runner = TaskRunner(self.id, settings)
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="caseflow-sweep", daemon=True)

    @property
    def interval(self) -> float:
        return max(self.settings.lease_seconds / 3, 0.5)

    def start(self) -> None:
        with session_scope() as session:
            session.merge(WorkerRow(
                id=self.id, hostname=socket.gethostname(), pid=os.getpid(),
                concurrency=self.settings.worker_concurrency, started_at=utcnow(), last_heartbeat_at=utcnow(),
            ))
        self._sweeper.start()

    def stopping(self) -> None:
        """Celery's warm shutdown began: running tasks stop at their next step and go back to the queue."""
        self.runner.stopping.set()

    def stop(self) -> None:
        self._stop.set()
        self._sweeper.join(timeout=self.interval * 3)
        with session_scope() as session:
            row = session.get(WorkerRow, self.id)
            if row is not None:
                row.stopped_at = utcnow()

    def run(self, task_id: int) -> str:
        claim = lifecycle.claim_task(task_id, self.id, self.settings.lease_seconds)
        if claim is None:
            return "not runnable"
        with self._lease_kept(claim):
            self.runner.run(claim)
        self._send_again_if_pending(task_id)
        return "ran"

    @contextmanager
    def _lease_kept(self, claim: Claim) -> Iterator[None]:
        """Extends the claim's lease every third of LEASE_SECONDS while the block runs."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.interval):
                if not lifecycle.extend_lease(claim, self.id, self.settings.lease_seconds):
                    return

        thread = threading.Thread(target=beat, name=f"caseflow-lease-{claim.task_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _send_again_if_pending(self, task_id: int) -> None:
        """A run handed back at shutdown, or waiting out a retry, gets its next message now (due at run_after)."""
        with session_scope(read_only=True) as session:
            task = session.get(WorkflowTask, task_id)
            if task is not None and task.status == TaskStatus.PENDING.value:
                send(task_id, at=task.run_after)

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception:  # the sweep must outlive a database or broker that went away for a moment
                log.warning("sweep failed", exc_info=True)

    def sweep(self) -> dict[str, Any]:
        """Heartbeat; then, for one worker of the fleet per interval: requeue expired leases, resend lost messages."""
        with session_scope() as session:
            row = session.get(WorkerRow, self.id)
            if row is not None:
                row.last_heartbeat_at = utcnow()
        client = _redis(broker_url(self.settings))
        if not client.set(SWEEP_LOCK, self.id, nx=True, ex=max(int(self.interval), 1)):
            return {"swept": False}
        requeued = lifecycle.requeue_expired(self.settings.max_attempts)
        for task_id in requeued:
            send(task_id)
        resent = self._resend_stale(client)
        reviews = review_deadlines.check(self.settings)
        self._daily_cleanup(client)
        return {"swept": True, "requeued": requeued, "resent": resent, **reviews}

    def _daily_cleanup(self, client: redis.Redis) -> None:
        """The retention, once a day fleet-wide from 03:17 UTC, as the APScheduler worker's cleanup job does."""
        now = utcnow()
        if (now.hour, now.minute) < CLEANUP_AT or not client.set(
            CLEANUP_KEY.format(now.date().isoformat()), self.id, nx=True, ex=2 * 86400
        ):
            return
        report = cleanup.cleanup(self.settings.retention_days, batch_size=self.settings.cleanup_batch_size)
        log.info("retention cleanup: %s; ended sessions removed: %d", report, sessions.prune())

    def _resend_stale(self, client: redis.Redis) -> list[int]:
        """Pending, runnable tasks whose message was not sent in the last CELERY_RESEND_SECONDS, oldest rank first.

        Only while the broker's queue is short: a long queue means workers are busy and the
        messages are waiting there, not lost.
        """
        if client.llen(QUEUE) >= RESEND_BATCH:
            return []
        now = utcnow()
        before = now - timedelta(seconds=self.settings.celery_resend_seconds)
        with session_scope(read_only=True) as session:
            if queue_control.is_paused(session):
                return []
            stale = session.scalars(
                select(WorkflowTask.id)
                .where(WorkflowTask.status == TaskStatus.PENDING.value, WorkflowTask.updated_at < before,
                       or_(WorkflowTask.run_after.is_(None), WorkflowTask.run_after <= now))
                .order_by(WorkflowTask.ranked_at, WorkflowTask.id)
                .limit(RESEND_BATCH)
            ).all()
        resent = [task_id for task_id in stale if not client.exists(SENT_KEY.format(task_id))]
        for task_id in resent:
            send(task_id)
        return resent


_runtime: CeleryRuntime | None = None


def run_worker(settings: Settings) -> None:
    """`python -m core celery-worker`: a Celery worker with a thread pool of WORKER_CONCURRENCY slots."""
    global _runtime
    from core.tasks.worker import serve_metrics

    app = celery_app(broker_url(settings), settings.celery_visibility_timeout)
    _runtime = CeleryRuntime(settings)
    _runtime.start()
    serve_metrics(settings, embedded=False)
    worker_shutting_down.connect(lambda **_: _runtime.stopping() if _runtime else None, weak=False)
    try:
        app.worker_main([
            "worker", "--pool=threads", f"--concurrency={settings.worker_concurrency}", "--loglevel=INFO",
            f"--queues={QUEUE}", f"--hostname=caseflow-{os.getpid()}@{socket.gethostname()}",
            "--without-gossip", "--without-mingle", "--task-events",
        ])
    finally:
        _runtime.stop()
        _runtime = None
