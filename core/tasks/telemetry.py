"""Prometheus metrics of CaseFlow, all named ``caseflow_*``, in one registry: :func:`registry`.

Two kinds. What happens inside this process (claims, steps, AI calls, lease recoveries,
finished tasks) is counted as it happens: sum over processes in PromQL for the fleet.
What the database holds (tasks by live status, queue depth, the oldest pending task,
reviews waiting) is read on each scrape by :class:`DatabaseCollector`, with a few
indexed aggregates over the live statuses only, never over the task history.

Worker processes serve the registry on METRICS_PORT (:func:`serve`); an HTTP API process
can mount ``prometheus_client.make_asgi_app(registry())`` or call
``prometheus_client.generate_latest(registry())``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from core.database import session_scope
from core.tasks import metrics, queue_control
from db.models import TaskStatus, WorkflowTask
from db.types import utcnow

log = logging.getLogger(__name__)

DEFAULT_WORKER_PORT = 9464

_registry = CollectorRegistry(auto_describe=True)

CLAIM_LATENCY = Histogram(
    "caseflow_claim_latency_seconds", "Time from a task becoming runnable to a worker claiming it.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600), registry=_registry,
)
STEP_DURATION = Histogram(
    "caseflow_step_duration_seconds", "Duration of each workflow step, per step (node).", ["step"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=_registry,
)
AI_CALLS = Counter("caseflow_ai_calls", "Requests to the AI provider, by outcome.", ["provider", "model", "outcome"],
                   registry=_registry)
AI_TOKENS = Counter("caseflow_ai_tokens", "Tokens the AI provider reported, by kind (prompt, completion).",
                    ["provider", "model", "kind"], registry=_registry)
AI_ERRORS = Counter("caseflow_ai_errors", "AI requests that did not end well (any outcome but ok).",
                    ["provider", "model", "outcome"], registry=_registry)
LEASE_RECOVERIES = Counter(
    "caseflow_lease_recoveries", "Tasks whose worker's lease expired: requeued, or failed after MAX_ATTEMPTS.",
    ["outcome"], registry=_registry,
)
TASKS_FINISHED = Counter("caseflow_tasks_finished", "Tasks that reached a terminal status in this process.",
                         ["status"], registry=_registry)
PROCESS_METRICS = (CLAIM_LATENCY, STEP_DURATION, AI_CALLS, AI_TOKENS, AI_ERRORS, LEASE_RECOVERIES, TASKS_FINISHED)
DATABASE_GAUGES = {
    "caseflow_database_up": "1 when the last scrape could read the database.",
    "caseflow_tasks": "Tasks in each live status.",
    "caseflow_queue_depth": "Pending tasks a worker may claim now (not waiting out a retry).",
    "caseflow_oldest_pending_age_seconds": "Age of the oldest pending task (0 when none).",
    "caseflow_reviews_waiting": "Tasks paused for a human review.",
    "caseflow_oldest_review_age_seconds": "How long the longest-waiting review has waited.",
    "caseflow_reviews_overdue": "Reviews waiting longer than REVIEW_REMIND_HOURS (0 when reminders are off).",
    "caseflow_queue_paused": "1 while the queue is paused.",
}
"""What :class:`DatabaseCollector` yields on each scrape."""


def registry() -> CollectorRegistry:
    """CaseFlow's registry, with the database collector attached (once per process)."""
    with _registry_lock:
        global _collector
        if _collector is None:
            _collector = DatabaseCollector()
            _registry.register(_collector)
    return _registry


def serve(port: int) -> Any:
    """Serves /metrics on ``port`` (all interfaces), once per process; None when the port is taken (logged)."""
    with _lock:
        if port in _servers:
            return _servers[port]
        try:
            server, _thread = start_http_server(port, registry=registry())
        except OSError as error:
            log.warning("metrics not served: port %s: %s", port, error)
            return None
        _servers[port] = server
    log.info("metrics on :%s/metrics", port)
    return server


def claimed(waited: timedelta) -> None:
    CLAIM_LATENCY.observe(max(waited.total_seconds(), 0.0))


def step_finished(step: str, duration_ms: int) -> None:
    STEP_DURATION.labels(step=step).observe(duration_ms / 1000)


def ai_call(provider: str, model: str, outcome: str, prompt_tokens: int | None, completion_tokens: int | None) -> None:
    AI_CALLS.labels(provider, model, outcome).inc()
    if outcome != "ok":
        AI_ERRORS.labels(provider, model, outcome).inc()
    for kind, tokens in (("prompt", prompt_tokens), ("completion", completion_tokens)):
        if tokens:
            AI_TOKENS.labels(provider, model, kind).inc(tokens)


def lease_recovered(outcome: str) -> None:
    LEASE_RECOVERIES.labels(outcome).inc()


def finished(status: str) -> None:
    TASKS_FINISHED.labels(status).inc()


class DatabaseCollector(Collector):
    """Gauges read from the database on each scrape: a handful of indexed aggregates over live tasks."""

    def describe(self) -> list[Any]:
        return []  # collected on scrape only, never at registration (the database may not be configured yet)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            facts = _database_facts()
        except SQLAlchemyError:
            log.warning("metrics: the database did not answer", exc_info=True)
            yield _gauge("caseflow_database_up", 0)
            return
        yield _gauge("caseflow_database_up", 1)
        tasks = GaugeMetricFamily("caseflow_tasks", DATABASE_GAUGES["caseflow_tasks"], labels=["status"])
        for status in metrics.LIVE:
            tasks.add_metric([status], facts["by_status"].get(status, 0))
        yield tasks
        yield _gauge("caseflow_queue_depth", facts["runnable"])
        yield _gauge("caseflow_oldest_pending_age_seconds", facts["oldest_pending"])
        yield _gauge("caseflow_reviews_waiting", facts["by_status"].get(TaskStatus.REVIEWING.value, 0))
        yield _gauge("caseflow_oldest_review_age_seconds", facts["oldest_review"])
        yield _gauge("caseflow_reviews_overdue", facts["overdue_reviews"])
        yield _gauge("caseflow_queue_paused", facts["paused"])


def _gauge(name: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, DATABASE_GAUGES[name], value=value)


def _database_facts() -> dict[str, Any]:
    now = utcnow()
    t = WorkflowTask
    with session_scope(read_only=True) as session:
        now_live = metrics.live(session, now)
        runnable = session.scalar(select(func.count()).select_from(t).where(
            t.status == TaskStatus.PENDING.value, or_(t.run_after.is_(None), t.run_after <= now)))
        oldest_pending = session.scalar(select(func.min(t.created_at)).where(t.status == TaskStatus.PENDING.value))
        paused = queue_control.is_paused(session)
    return {
        "by_status": now_live.by_status,
        "runnable": runnable or 0,
        "oldest_pending": _age(now, oldest_pending),
        "oldest_review": _age(now, now_live.oldest_review),
        "paused": int(paused),
        "overdue_reviews": now_live.overdue_reviews or 0,
    }


def _age(now: Any, since: Any) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


_collector: DatabaseCollector | None = None
_registry_lock = threading.Lock()
_servers: dict[int, Any] = {}
_lock = threading.Lock()
