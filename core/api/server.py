"""Runs the API under uvicorn, with logs that never show a token or a webhook key."""

from __future__ import annotations

import logging
import re

import uvicorn
from fastapi import FastAPI

from core.api.app import create_app

SECRET_QUERY = re.compile(r"(?i)\b(token|access_token|key|sign)=[^&\s\"']+")
GRACEFUL_SHUTDOWN_SECONDS = 5


class RedactSecrets(logging.Filter):
    """Masks ?token=... (uvicorn logs WebSocket paths with their query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def build_server(host: str, port: int, *, app: FastAPI | None = None) -> uvicorn.Server:
    """A uvicorn server for the app, logging through the process's logging setup (the tests run one in a thread).

    uvicorn's access log is off: core.api.metrics logs each request without its query string.
    """
    config = uvicorn.Config(
        app or create_app(), host=host, port=port, access_log=False, ws="websockets-sansio", lifespan="on",
        server_header=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, log_config=None,
    )
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
    return uvicorn.Server(config)


def serve(host: str, port: int) -> None:
    """`python -m core api`: serves until interrupted (Ctrl-C or SIGTERM stop it gracefully)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    build_server(host, port).run()
