"""How one row's request is put together and sent: run-time variables resolved, the body sent as its media
type, again after a pause while the server says it is too busy to take it (503).

Standard library only: an exported pytest file embeds this module's source, so the exported
test sends exactly what the in-app runner sends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from core.schema.variables import resolve

BUSY_RETRIES = 2
BUSY_WAIT_SECONDS = (0.5, 2.0)
"""The pause before each retry of a 503, unless its Retry-After asks for longer (at most MAX_BUSY_WAIT_SECONDS)."""
MAX_BUSY_WAIT_SECONDS = 10.0
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def body_arguments(media_type: str, send_body: bool, body: Any) -> dict[str, Any]:
    """httpx's keyword arguments for ``body`` sent as ``media_type`` (JSON, unless a form with fields)."""
    if not send_body:
        return {}
    if media_type == FORM and isinstance(body, dict):
        return {"data": {key: form_value(value) for key, value in body.items()}}
    if media_type == MULTIPART and isinstance(body, dict):
        return {"files": [(key, (None, form_value(value))) for key, value in body.items()]}
    return {"json": body}


def form_value(value: Any) -> str:
    """A form field's text: strings as they are, anything else as JSON (true, 3, ["a"])."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def resolved_target(path: str, query: Mapping[str, str], headers: Mapping[str, str],
                    values: Mapping[str, Any]) -> tuple[str, dict[str, str], dict[str, str]]:
    """Path, query and headers with their run-time variables resolved afresh (values in the path encoded), as
    text: a captured number too."""
    text = {name: str(value) for name, value in values.items()}
    encoded = {name: quote(value, safe="") for name, value in text.items()}
    return resolve(path, encoded), resolve(dict(query), text), resolve(dict(headers), text)


def send(client: Any, method: str, path: str, **arguments: Any) -> Any:
    """``client.request(method, path, **arguments)``, sent again (at most BUSY_RETRIES times) while the answer
    is 503 Service Unavailable: the server did not act on it (a busy database, a restart), and the row's
    verdict should be about the row."""
    for wait in BUSY_WAIT_SECONDS[:BUSY_RETRIES]:
        response = client.request(method, path, **arguments)
        if response.status_code != 503:
            return response
        time.sleep(min(max(wait, _retry_after(response.headers.get("retry-after"))), MAX_BUSY_WAIT_SECONDS))
    return client.request(method, path, **arguments)


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds (0 for a date or nothing)."""
    try:
        return float(value or 0)
    except ValueError:
        return 0.0
