"""A real HTTP server for tests: one route per scene, request bodies validated against the scene's schema.

A valid body gets the scene's lowest documented 2xx status and a plausible JSON body (a
sample of the documented response schema, the request echoed, and an id); an invalid one
gets the status the workflow expects for invalid rows (422 if documented, else 400, ...)
with {"code", "message", "errors"}. ``fail_with`` makes every request answer that status.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from jsonschema import Draft202012Validator

from core.schema.responses import error_status, response_schema, success_status
from core.schema.validation import FORMAT_CHECKER
from core.schema.values import sample
from core.schema.walk import resolve_refs
from tests.support.http_server import serving


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    validator: Draft202012Validator | None
    responses: dict[str, Any]


@dataclass
class EchoApi:
    """The server's routes and what it received (method, path, headers, body) for assertions."""

    routes: list[Route]
    fail_with: int | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        path = _decoded_path(target)
        self.received.append({"method": method, "path": target, "headers": headers,
                              "body": raw.decode("utf-8", "replace")})
        if self.fail_with is not None:
            return self.fail_with, {"code": "SERVER_ERROR", "message": "The test server was told to fail."}
        matching = [route for route in self.routes if route.pattern.fullmatch(path)]
        route = next((item for item in matching if item.method == method), None)
        if route is None:
            status = 405 if matching else 404
            return status, {"code": "NO_ROUTE", "message": f"No {method} {path} here.", "errors": []}
        try:
            body = json.loads(raw) if raw else None
        except ValueError as error:
            return 400, {"code": "BAD_JSON", "message": f"The body is not JSON: {error}", "errors": []}
        errors = _errors(route.validator, body)
        if errors:
            status = error_status(route.responses)
            payload = _sample(response_schema(route.responses, status))
            return status, {**payload, "code": "VALIDATION_ERROR", "message": "The request body is invalid.",
                            "errors": errors}
        status = success_status(route.responses)
        echoed = body if isinstance(body, dict) else {}
        return status, {**_sample(response_schema(route.responses, status)), **echoed, "id": len(self.received)}


def _decoded_path(target: str) -> str:
    """The request's path with each segment percent-decoded, as the scene's path spells it (an encoded "/" stays)."""
    return "/".join(unquote(segment).replace("/", "%2F") for segment in urlsplit(target).path.split("/"))


def _errors(validator: Draft202012Validator | None, body: Any) -> list[dict[str, str]]:
    if validator is None:
        return []
    return [{"pointer": "/" + "/".join(str(part) for part in error.absolute_path), "message": error.message}
            for error in validator.iter_errors(body)]


def _sample(schema: dict[str, Any] | None) -> dict[str, Any]:
    value = sample(resolve_refs(schema), random.Random(0)) if schema else {}
    return value if isinstance(value, dict) else {}


def route_for(scene: dict[str, Any]) -> Route:
    """A route for a scene given as {"method", "path", "request_schema", "responses"}."""
    pattern = re.compile(re.sub(r"\\\{[^{}]+\\\}", "[^/]+", re.escape(scene["path"])))
    schema = scene["request_schema"]
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER) if schema else None
    return Route(method=scene["method"].upper(), pattern=pattern, validator=validator, responses=scene["responses"])


@contextmanager
def serve(scenes: list[dict[str, Any]], *, fail_with: int | None = None) -> Iterator[EchoApi]:
    """Runs the server on 127.0.0.1 on a free port until the block ends; ``api.base_url`` is its address."""
    api = EchoApi(routes=[route_for(scene) for scene in scenes], fail_with=fail_with)

    with serving(api.answer, "echo-api") as base_url:
        api.base_url = base_url
        yield api
