"""Prometheus metrics of the API process at /metrics: requests by route and status, latency, open WebSockets.

Each app has its own registry (several apps in one test process never clash). Routes are
labelled by their template (``/api/v1/automation/workflow/tasks/{task_id}``), never by
the raw path, so the number of series stays bounded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import service

log = logging.getLogger(__name__)
access_log = logging.getLogger("caseflow.api.access")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "unmatched"


class TaskCollector(Collector):
    """caseflow_tasks{status}: the tasks per status at scrape time (the backlog is status="pending")."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("caseflow_tasks", "Tasks per status", labels=["status"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("caseflow_tasks", "Tasks per status", labels=["status"])
        try:
            counts = service.task_counts(exact=True)
        except Exception:  # a scrape must still answer while the database is away
            log.warning("caseflow_tasks: the task counts could not be read", exc_info=True)
            return
        for status, count in counts.items():
            family.add_metric([status], count)
        yield family


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("caseflow_api_requests", "HTTP requests answered", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("caseflow_api_request_duration_seconds", "Time to answer an HTTP request",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.websockets = Gauge("caseflow_api_websockets_open", "WebSocket connections open now",
                                registry=self.registry)
        self.messages = Counter("caseflow_api_websocket_messages", "Messages pushed over WebSockets", ["type"],
                                registry=self.registry)
        self.registry.register(TaskCollector())

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI, so WebSockets pass straight through)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            # the path only: query strings may carry tokens
            access_log.info("%s %s %d %.1fms", method, scope["path"], status, elapsed * 1000)


def _route_of(scope: Scope) -> str:
    """The route template; a plain Starlette route (/openapi.json, /docs, /metrics) has no parameters."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    return str(scope["path"]) if "endpoint" in scope else UNMATCHED
