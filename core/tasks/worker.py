"""The worker: an APScheduler background scheduler that claims and runs tasks.

Jobs, each with a stable id: `dispatch` claims pending tasks into free slots of the
`tasks` thread pool; `heartbeat` extends this worker's leases; `requeue` returns the
tasks of dead workers to pending; `webhooks` sends task notices to webhooks (on its own
thread, so a slow receiver never delays a heartbeat); `reviews` reminds and expires
reviews that waited too long (core.tasks.review_deadlines); `cleanup` applies the retention
(and prunes ended dashboard sessions) once a day. On PostgreSQL a LISTEN thread
(core.tasks.wakeup.Listener) runs `dispatch` as soon as another process starts or reviews
a task, instead of at the next poll.
A process has at most one worker (see :func:`in_process_worker`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from core.accounts import sessions
from core.config import Settings, get_settings
from core.database import database, session_scope
from core.tasks import cleanup, lifecycle, review_deadlines, telemetry, wakeup
from core.tasks.lifecycle import Claim
from core.tasks.runner import TaskRunner
from core.tasks.webhooks import delivery as webhooks
from db.models import Worker as WorkerRow
from db.types import utcnow

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
"""Never drop a job that waited for a thread (APScheduler's default grace is 1 s)."""
REVIEWS_SECONDS = 60
"""How often a worker looks for reviews due a reminder or past their expiry."""


class Worker:
    """Claims and runs tasks on a thread pool until stopped."""

    def __init__(self, settings: Settings | None = None, worker_id: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.runner = TaskRunner(self.id, self.settings)
        self.scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(2),
                "tasks": ThreadPoolExecutor(self.settings.worker_concurrency),
                "webhooks": ThreadPoolExecutor(1),
            },
            job_defaults=JOB_DEFAULTS,
            timezone=UTC,
        )
        self._running: set[Claim] = set()  # claimed by this worker and not finished
        self._queued: set[Claim] = set()  # claimed, but not started yet
        self._running_lock = threading.Lock()
        self._dispatch_lock = threading.Lock()
        self._again = threading.Event()
        self._wake_lock = threading.Lock()
        self._stopping = False
        self._listener: wakeup.Listener | None = None

    @property
    def running_tasks(self) -> int:
        with self._running_lock:
            return len(self._running)

    def start(self) -> None:
        self._register()
        s, lease = self.settings, self.settings.lease_seconds
        self.scheduler.add_job(self.dispatch, "interval", seconds=s.poll_seconds, id="dispatch", replace_existing=True,
                               next_run_time=utcnow(), max_instances=3)
        self.scheduler.add_job(self.heartbeat, "interval", seconds=max(lease / 3, 1), id="heartbeat",
                               replace_existing=True)
        self.scheduler.add_job(self.requeue, "interval", seconds=max(lease / 2, 1), id="requeue",
                               replace_existing=True, next_run_time=utcnow())
        self.scheduler.add_job(self.webhooks, "interval", seconds=s.poll_seconds, id="webhooks", executor="webhooks",
                               replace_existing=True)
        self.scheduler.add_job(self.reviews, "interval", seconds=REVIEWS_SECONDS, id="reviews", replace_existing=True)
        self.scheduler.add_job(self.cleanup, CronTrigger(hour=3, minute=17, timezone=UTC), id="cleanup",
                               replace_existing=True)
        self.scheduler.start()
        wakeup.subscribe(self.dispatch_soon)
        db = database()
        if not db.is_sqlite and s.pg_notify:
            self._listener = wakeup.Listener(db, self.dispatch_soon)
            self._listener.start()
        log.info("worker %s started with %d slots", self.id, s.worker_concurrency)

    def stop(self, wait: bool = True) -> None:
        """Stops claiming, lets running steps finish, and hands back tasks claimed but not started.

        APScheduler's shutdown holds its job-store lock while it waits for running jobs, so
        no job of ours may be adding or modifying jobs then: dispatch is stopped by taking
        its lock, and wake-ups by the stopping flag.
        """
        wakeup.unsubscribe(self.dispatch_soon)
        if self._listener is not None:
            self._listener.stop()
        with self._wake_lock:
            self._stopping = True
        self.runner.stopping.set()
        with self._dispatch_lock:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=wait)
        with self._running_lock:
            unstarted, self._queued = list(self._queued), set()
        for claim in unstarted:
            lifecycle.release(claim, self.id)
        with session_scope() as session:
            row = session.get(WorkerRow, self.id)
            if row is not None:
                row.stopped_at = utcnow()

    def dispatch_soon(self) -> None:
        """Runs `dispatch` now rather than at its next interval (or again, if it is running)."""
        self._again.set()
        with self._wake_lock:
            if not self._stopping and self.scheduler.running:
                self.scheduler.modify_job("dispatch", next_run_time=datetime.now(UTC))

    def dispatch(self) -> None:
        """Claims pending tasks into free slots; a request made while it runs makes it go round again."""
        self._again.set()
        while self._again.is_set():
            if not self._dispatch_lock.acquire(blocking=False):
                return
            try:
                while self._again.is_set() and not self._stopping:
                    self._again.clear()
                    self._claim_into_free_slots()
            finally:
                self._dispatch_lock.release()

    def _claim_into_free_slots(self) -> None:
        free = self.settings.worker_concurrency - self.running_tasks
        for claim in lifecycle.claim(self.id, free, self.settings.lease_seconds):
            with self._running_lock:
                self._running.add(claim)
                self._queued.add(claim)
            self.scheduler.add_job(self._run, args=[claim], executor="tasks", id=f"task-{claim.task_id}-{claim.token}")

    def _run(self, claim: Claim) -> None:
        with self._running_lock:
            if claim not in self._queued:  # handed back by stop()
                return
            self._queued.discard(claim)
        try:
            self.runner.run(claim)
        finally:
            with self._running_lock:
                self._running.discard(claim)
            self.dispatch_soon()

    def heartbeat(self) -> None:
        lifecycle.heartbeat(self.id, self.settings.lease_seconds)
        with session_scope() as session:
            row = session.get(WorkerRow, self.id)
            if row is not None:
                row.last_heartbeat_at = utcnow()

    def requeue(self) -> None:
        if lifecycle.requeue_expired(self.settings.max_attempts):
            self.dispatch_soon()

    def webhooks(self) -> None:
        webhooks.run_once(self.settings, stopping=self.runner.stopping)

    def reviews(self) -> dict[str, list[int]]:
        return review_deadlines.check(self.settings)

    def cleanup(self) -> None:
        report = cleanup.cleanup(self.settings.retention_days, batch_size=self.settings.cleanup_batch_size)
        log.info("retention cleanup: %s; webhook deliveries removed: %d; ended sessions removed: %d", report,
                 webhooks.prune(self.settings.retention_days), sessions.prune())

    def _register(self) -> None:
        with session_scope() as session:
            session.merge(WorkerRow(
                id=self.id, hostname=socket.gethostname(), pid=os.getpid(),
                concurrency=self.settings.worker_concurrency, started_at=utcnow(), last_heartbeat_at=utcnow(),
            ))


def serve_metrics(settings: Settings, *, embedded: bool) -> None:
    """Serves Prometheus metrics on METRICS_PORT: worker processes by default, embedded workers only when set."""
    port = settings.metrics_port
    if port is None and not embedded:
        port = telemetry.DEFAULT_WORKER_PORT
    if port:
        telemetry.serve(port)


_in_process: Worker | None = None
_in_process_lock = threading.Lock()


def in_process_worker() -> Worker:
    """The one worker of this process, started on first use."""
    global _in_process
    with _in_process_lock:
        if _in_process is None:
            worker = Worker()
            worker.start()
            serve_metrics(worker.settings, embedded=True)
            _in_process = worker
        return _in_process


def stop_in_process_worker() -> None:
    global _in_process
    with _in_process_lock:
        if _in_process is not None:
            _in_process.stop()
            _in_process = None


def current_in_process_worker() -> Worker | None:
    """This process's worker, if one was started."""
    return _in_process
