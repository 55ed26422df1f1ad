"""The FastAPI application: the specification's HTTP API and WebSocket over the service door.

The lifespan starts this process's embedded worker when RUN_SCHEDULER says so (so
``python -m core api`` alone runs tasks too; set RUN_SCHEDULER=false beside separate
workers) and the WebSocket hub's reader of task events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from core import service
from core.api import errors
from core.api.hub import EventHub
from core.api.metrics import ApiMetrics, MetricsMiddleware
from core.api.routes import library, webhooks, websocket, workflow
from core.config import get_settings

DESCRIPTION = """\
CaseFlow turns manual test cases and API operations ("scenes") into reviewed API automation cases.

Every request sends `Authorization: Bearer TOKEN` with a personal API token
(`python -m core api-token --username NAME`). Viewers read; engineers also launch, review,
cancel and retry, and add webhooks for their own tasks; admins do everything. Errors are
`{"error": code, "message": ...}`.

Live notifications: WebSocket `/api/v1/ws/{user_id}?token=TOKEN[&since=EVENT_ID]`.
"""


def create_app() -> FastAPI:
    settings = get_settings()
    metrics = ApiMetrics()
    hub = EventHub(settings.api_ws_poll_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = await run_in_threadpool(service.start_embedded_worker)
        await hub.start()  # before the first request, so no event of a task started through the API is missed
        reader = asyncio.create_task(hub.run())
        try:
            yield
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            if worker is not None:
                await run_in_threadpool(service.stop_embedded_worker)

    app = FastAPI(title="CaseFlow API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.hub = hub
    app.state.metrics = metrics
    errors.install(app)
    if settings.api_cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api_cors_origins,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(workflow.router)
    app.include_router(library.router)
    app.include_router(webhooks.router)
    app.include_router(websocket.router)
    app.add_route("/metrics", metrics.endpoint, include_in_schema=False)
    return app
