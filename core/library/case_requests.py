"""What every row of a case sends besides its body: method, filled path, query, headers, media type, setup."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from core.library import sending
from core.records import SetupStep
from core.schema import variables
from core.schema.values import sample
from core.schema.walk import resolve_refs

BODY_METHODS = ("POST", "PUT", "PATCH")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True, kw_only=True)
class CaseRequest:
    """What every row of a case sends, apart from its body."""

    method: str
    path: str
    """The scene's path with its path parameters filled in (percent-encoded, their run-time variables kept)."""
    query: dict[str, str]
    """The required query parameters."""
    send_body: bool
    media_type: str = "application/json"
    """How the body is sent: JSON, or a form (urlencoded or multipart)."""
    headers: dict[str, str] = field(default_factory=dict)
    """What the run's environment adds to every request; may hold run-time variables too."""
    setup: list[SetupStep] = field(default_factory=list)
    """Sent before each row (core.library.setup_run); the path holds the variables they capture."""

    def body_arguments(self, body: Any) -> dict[str, Any]:
        """httpx's keyword arguments for ``body`` sent as this request's media type."""
        return sending.body_arguments(self.media_type, self.send_body, body)


def case_request(method: str, path: str, parameters: list[dict[str, Any]], rows: list[dict[str, Any]],
                 media_type: str = "application/json", setup: list[SetupStep] | None = None) -> CaseRequest:
    """Path and required query parameters get their documented example, default, or a value their schema accepts;
    a path parameter the setup captures gets its variable (``{{bucket_id}}``)."""
    values = {(item["in"], item["name"]): parameter_value(item) for item in parameters}
    values.update({("path", name): "{{" + name + "}}" for step in setup or [] for name in step["captures"]})
    filled = PLACEHOLDER.sub(lambda match: _path_value(values.get(("path", match.group(1)), "1")), path)
    query = {item["name"]: values[("query", item["name"])] for item in parameters
             if item["in"] == "query" and item.get("required")}
    send_body = method.upper() in BODY_METHODS or any(row.get("body") for row in rows)
    return CaseRequest(method=method.upper(), path=filled, query=query, send_body=send_body, media_type=media_type,
                       setup=list(setup or []))


def parameter_value(parameter: dict[str, Any]) -> str:
    """A value for a path or query parameter, as text."""
    schema = resolve_refs(parameter.get("schema") or {})
    for candidate in (parameter.get("example"), *(schema.get("examples") or [])[:1], schema.get("default"),
                      schema.get("const"), *(schema.get("enum") or [])[:1]):
        if candidate is not None:
            return _text(candidate)
    value = _text(sample(schema, random.Random(parameter["name"]), parameter["name"]))
    free = isinstance(value, str) and not ({"pattern", "format", "enum", "const"} & schema.keys())
    return re.sub(r"[^a-z0-9_-]+", "_", value.lower()).strip("_") or "1" if free and parameter["in"] == "path" \
        else value


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _path_value(value: str) -> str:
    """A path parameter's value percent-encoded; its run-time variables are kept for each run to resolve."""
    parts = variables.TEMPLATE.split(value)  # literal text at even places, variable names at odd ones
    return "".join(quote(part, safe="") if index % 2 == 0 else "{{" + part + "}}" for index, part in enumerate(parts))


def resolved(request: CaseRequest, values: dict[str, Any]) -> CaseRequest:
    """The request with the run-time variables of its path, query and headers resolved afresh for one row."""
    path, query, headers = sending.resolved_target(request.path, request.query, request.headers, values)
    return replace(request, path=path, query=query, headers=headers)
