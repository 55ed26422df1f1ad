"""Running an automation case against a base URL: every row sent, checked, and the run stored."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from core import inputs
from core.accounts.users import Actor
from core.database import session_scope
from core.errors import InvalidInput, NotFound
from core.library.catalog import run_summary
from core.library.response_checks import failures, row_checks
from core.schema.values import sample
from core.schema.walk import resolve_refs
from db.models import AutomationCase, CaseRun, Scene
from db.types import utcnow

EXCERPT_CHARS = 500
DEFAULT_TIMEOUT_SECONDS = 10.0
BODY_METHODS = ("POST", "PUT", "PATCH")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
MAX_TIMEOUT_SECONDS = 300.0
MAX_BASE_URL_CHARS = 500
"""As long as case_runs.base_url holds."""
TOKEN_VARIABLE = "CASEFLOW_API_TOKEN"
"""The environment variable the command line and exported pytest files read the API token from."""


@dataclass(frozen=True, kw_only=True)
class CaseRequest:
    """What every row of a case sends, apart from its body."""

    method: str
    path: str
    """The scene's path with its path parameters filled in."""
    query: dict[str, str]
    """The required query parameters."""
    send_body: bool


def case_request(method: str, path: str, parameters: list[dict[str, Any]], rows: list[dict[str, Any]]) -> CaseRequest:
    """Path and required query parameters get their documented example, default, or a value their schema accepts."""
    values = {(item["in"], item["name"]): parameter_value(item) for item in parameters}
    filled = PLACEHOLDER.sub(lambda match: quote(values.get(("path", match.group(1)), "1"), safe=""), path)
    query = {item["name"]: values[("query", item["name"])] for item in parameters
             if item["in"] == "query" and item.get("required")}
    send_body = method.upper() in BODY_METHODS or any(row.get("body") for row in rows)
    return CaseRequest(method=method.upper(), path=filled, query=query, send_body=send_body)


def parameter_value(parameter: dict[str, Any]) -> str:
    """A value for a path or query parameter, as text."""
    schema = resolve_refs(parameter.get("schema") or {})
    for candidate in (parameter.get("example"), *(schema.get("examples") or [])[:1], schema.get("default"),
                      schema.get("const"), *(schema.get("enum") or [])[:1]):
        if candidate is not None:
            return _text(candidate)
    return _text(sample(schema, random.Random(parameter["name"]), parameter["name"]))


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def check_base_url(base_url: Any) -> tuple[str, httpx.BasicAuth | None]:
    """``base_url`` without a trailing slash and without credentials, and the credentials as basic auth.

    ``http://bob:secret@host/api`` becomes ``http://host/api`` plus basic auth for bob: the
    password is sent with this run's requests only, never stored or shown.
    """
    url = inputs.text(base_url, "The base URL", limit=MAX_BASE_URL_CHARS, single_line=True).strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if host is None or parts.scheme not in ("http", "https"):
        raise InvalidInput(f"The base URL {url[:100]!r} must start with http:// or https:// and name a host, "
                           f"e.g. https://api.example.com/v1.")
    if parts.username is None and parts.password is None:
        return url, None
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return bare, httpx.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))


def run_case(case_id: int, base_url: str, *, actor: Actor, token: str | None = None,
             timeout: float = DEFAULT_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Sends every row of the case to ``base_url``, checks each response, stores and returns the run.

    ``token``, when given, is sent as "Authorization: Bearer <token>"; credentials in the base
    URL are sent as basic auth instead. Neither is ever stored.
    """
    base, basic = check_base_url(base_url)
    timeout = inputs.seconds(timeout, "The timeout", maximum=MAX_TIMEOUT_SECONDS)
    headers = _bearer(token)
    if basic is not None and headers:
        raise InvalidInput(f"Give the API credentials one way: user:password in the base URL (sent as basic auth) "
                           f"or {TOKEN_VARIABLE} (sent as a Bearer token), not both.")
    with session_scope(read_only=True) as session:
        case = session.get(AutomationCase, case_id)
        if case is None:
            raise NotFound(f"No automation case with id {case_id} (UC{case_id}).")
        scene = session.get(Scene, case.scene_id) if case.scene_id else None
        rows = list(case.rows)
        request = case_request(case.method, case.path, scene.parameters if scene else [], rows)
    started, clock = utcnow(), time.monotonic()
    with httpx.Client(base_url=base, headers=headers, auth=basic, timeout=timeout) as client:
        results = [run_row(client, request, row) for row in rows]
    passed = sum(1 for result in results if result["passed"])
    with session_scope() as session:
        run = CaseRun(
            case_id=case_id, base_url=base, status="passed" if passed == len(results) else "failed",
            total=len(results), passed=passed, failed=len(results) - passed, rows=results, run_by=actor.id,
            duration_ms=round((time.monotonic() - clock) * 1000), started_at=started,
        )
        session.add(run)
        session.flush()
        return run_summary(run)


def _bearer(token: Any) -> dict[str, str]:
    """The Authorization header for ``token`` (none without one); HTTP headers hold printable ASCII only."""
    if token is None or token == "":
        return {}
    token = inputs.text(token, "The API token", single_line=True)
    if not token.isascii():
        raise InvalidInput("The API token contains characters other than ASCII letters, digits and punctuation.")
    return {"Authorization": f"Bearer {token}"}


def run_row(client: httpx.Client, request: CaseRequest, row: dict[str, Any]) -> dict[str, Any]:
    """Sends one row and checks the response: its outcome as stored in the run."""
    result: dict[str, Any] = {"name": row["name"], "kind": row.get("kind"), "method": request.method,
                              "url": request.path, "status_code": None}
    clock = time.monotonic()
    try:
        response = client.request(request.method, request.path, params=request.query,
                                  json=row.get("body") if request.send_body else None)
    except httpx.HTTPError as error:
        problem = f"request failed: {type(error).__name__}: {error}"
        return {**result, "passed": False, "failures": [problem], "response_excerpt": "",
                "duration_ms": round((time.monotonic() - clock) * 1000)}
    problems = failures(row_checks(row), response.status_code, response.text)
    return {**result, "url": str(response.request.url), "status_code": response.status_code,
            "passed": not problems, "failures": problems, "response_excerpt": response.text[:EXCERPT_CHARS],
            "duration_ms": round((time.monotonic() - clock) * 1000)}

