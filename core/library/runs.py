"""Running an automation case against a base URL: every row sent, checked, and the run stored."""

from __future__ import annotations

import json
import secrets
import shlex
import time
from dataclasses import replace
from typing import Any
from xml.etree import ElementTree

import httpx

from core import inputs
from core.accounts.users import Actor
from core.database import session_scope
from core.errors import InvalidInput, NotFound
from core.library import environments, sending
from core.library.case_requests import CaseRequest, case_request, resolved
from core.library.catalog import run_summary
from core.library.resending import row_client
from core.library.response_checks import judge
from core.library.setup_run import SetupFailed, clean_up, run_setup
from core.schema import variables
from db.models import AutomationCase, CaseRun, Scene
from db.types import utcnow

EXCERPT_CHARS = 500
RECORDED_BODY_CHARS = 4000
"""A response body of EXCERPT_CHARS to this many characters is also kept whole (``response_body``), so that
assertion strength can make wrong responses from it; a shorter one is whole in its excerpt, a longer one is not kept."""
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 300.0
"""As long as case_runs.base_url holds."""
TOKEN_VARIABLE = "CASEFLOW_API_TOKEN"
"""The environment variable the command line and exported pytest files read the API token from."""


def run_case(case_id: int, base_url: str | None = None, *, actor: Actor, environment: str | None = None,
             token: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Sends every row of the case to its target, checks each response, stores and returns the run.

    The target is ``base_url`` (with ``token``, when given, sent as "Authorization: Bearer <token>"),
    else the environment named, else the case's module's default environment. Secrets are never stored.
    """
    timeout = inputs.seconds(timeout, "The timeout", maximum=MAX_TIMEOUT_SECONDS)
    with session_scope(read_only=True) as session:
        case = session.get(AutomationCase, case_id)
        if case is None:
            raise NotFound("No automation case with id {case_id} (UC{case_id}).", case_id=case_id)
        scene = session.get(Scene, case.scene_id) if case.scene_id else None
        rows = list(case.rows)
        request = case_request(case.method, case.path, scene.parameters if scene else [], rows,
                               scene.request_media_type if scene else "application/json", case.setup)
        module = case.module_id
    target = _target(module, base_url=base_url, environment=environment, token=token)
    request = replace(request, headers=target.headers)
    started, clock = utcnow(), time.monotonic()
    values = {**target.variables, "run_id": f"run-{secrets.token_hex(4)}"}
    with row_client(target.base_url, target.auth_headers, timeout) as client:
        results = [target.redact(run_row(client, request, row, values)) for row in rows]
    passed = sum(1 for result in results if result["passed"])
    with session_scope() as session:
        run = CaseRun(
            case_id=case_id, base_url=target.base_url, environment=target.name,
            status="passed" if passed == len(results) else "failed", total=len(results), passed=passed,
            failed=len(results) - passed, rows=results, run_by=actor.id,
            duration_ms=round((time.monotonic() - clock) * 1000), started_at=started,
        )
        session.add(run)
        session.flush()
        return run_summary(run)


def _target(module: str, *, base_url: str | None, environment: str | None,
            token: str | None) -> environments.RunTarget:
    """A run's target: the base URL given, else the environment named, else the module's default environment."""
    if base_url is not None:
        if environment is not None:
            raise InvalidInput("Give a base URL or an environment, not both: an environment has its own base URL.")
        return environments.by_hand(base_url, token)
    if token is not None:
        raise InvalidInput("A token goes with a base URL: an environment sends its own auth.")
    name = environment or environments.default_environment(module)
    if name is None:
        raise InvalidInput("Module {module!r} has no default environment: name an environment or a base URL, "
                           "or make one its default (python -m core environment add NAME --base-url URL "
                           "--default-for {value}).",
                           module=module, value=module or 'MODULE')
    return environments.target(name)


def run_row(client: httpx.Client, request: CaseRequest, row: dict[str, Any],
            values: dict[str, str] | None = None) -> dict[str, Any]:
    """Prepares and sends one row, its run-time variables resolved afresh, and checks the response: its outcome
    as stored.

    ``values`` are the run's variables (``run_id``, an environment's values) besides the built-ins;
    they fill the body, the path, the query and the headers, with what the row's setup captured.
    """
    result: dict[str, Any] = {"name": row.get("name"), "kind": row.get("kind"), "method": request.method,
                              "url": request.path, "status_code": None}
    clock = time.monotonic()
    try:
        prepared, cleanups = run_setup(client, request.setup, values or {}, request.headers)
    except SetupFailed as error:
        return _not_sent(result, str(error), clock)
    try:
        return _sent(client, request, row, prepared, result, clock)
    finally:
        clean_up(client, cleanups)


def _sent(client: httpx.Client, request: CaseRequest, row: dict[str, Any], values: dict[str, Any],
          result: dict[str, Any], clock: float) -> dict[str, Any]:
    try:
        body = variables.resolve(row.get("body"), values)
        result["body"] = body if variables.has_template(row.get("body")) else None
        sent = resolved(request, values)
        response = sending.send(client, sent.method, sent.path, params=sent.query, headers=sent.headers,
                                **sent.body_arguments(body))
    except (httpx.HTTPError, httpx.InvalidURL, variables.UnknownVariable) as error:  # InvalidURL: a newline
        problem = (f"unknown variable {{{{{error.args[0]}}}}}: neither a built-in nor a variable of the run's "
                   f"environment" if isinstance(error, variables.UnknownVariable)
                   else f"request failed: {type(error).__name__}: {error}")
        return _not_sent(result, problem, clock)
    problems, drift = judge(row, response.status_code, response.text)
    url = str(response.request.url)
    if drift is not None:
        result["drift"] = drift
    if response.status_code >= 500:
        result["defect"] = {"curl": curl_command(sent, url, body)}
    return {**result, "url": url, "status_code": response.status_code,
            "passed": not problems, "failures": problems, "response_excerpt": response.text[:EXCERPT_CHARS],
            **({"response_body": response.text} if EXCERPT_CHARS <= len(response.text) <= RECORDED_BODY_CHARS else {}),
            "duration_ms": round((time.monotonic() - clock) * 1000)}


def recorded_response(outcome: dict[str, Any]) -> str | None:
    """The whole body of the response a stored row got, or None when the run did not keep it whole."""
    body, excerpt = outcome.get("response_body"), outcome.get("response_excerpt")
    if isinstance(body, str):
        return body
    return excerpt if isinstance(excerpt, str) and len(excerpt) < EXCERPT_CHARS else None


def _not_sent(result: dict[str, Any], problem: str, clock: float) -> dict[str, Any]:
    return {**result, "passed": False, "failures": [problem], "response_excerpt": "",
            "duration_ms": round((time.monotonic() - clock) * 1000)}


def curl_command(request: CaseRequest, url: str, body: Any) -> str:
    """A curl command that sends the row again, to hand to the API's team with a server error.

    The run's auth is left out (it is a secret): add your own ``-H 'Authorization: ...'``.
    """
    parts = ["curl", "-X", request.method, shlex.quote(url)]
    for name, value in request.headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    sent = request.body_arguments(body)
    if "json" in sent:
        parts += ["-H", shlex.quote("Content-Type: application/json"),
                  "--data-raw", shlex.quote(json.dumps(sent["json"], ensure_ascii=False))]
    for name, value in (sent.get("data") or {}).items():
        parts += ["--data-urlencode", shlex.quote(f"{name}={value}")]
    for name, (_, value) in sent.get("files") or []:
        parts += ["-F", shlex.quote(f"{name}={value}")]
    return " ".join(parts)


def junit_xml(run: dict[str, Any], case_name: str) -> str:
    """A stored run as JUnit XML for CI: one testcase per row, failures with their reasons, drift and
    server defects (with the curl command that reproduces them) as properties."""
    suite = ElementTree.Element("testsuite", name=case_name, tests=str(run["total"]), failures=str(run["failed"]),
                                time=f"{run['duration_ms'] / 1000:.3f}", timestamp=run["started_at"] or "")
    for row in run["rows"]:
        case = ElementTree.SubElement(suite, "testcase", classname=case_name, name=str(row.get("name")),
                                      time=f"{(row.get('duration_ms') or 0) / 1000:.3f}")
        notes = {**({"drift": f"documented {row['drift']['documented']}, answered {row['drift']['answered']}"}
                    if row.get("drift") else {}),
                 **({"server_defect": row["defect"]["curl"]} if row.get("defect") else {})}
        if notes:
            properties = ElementTree.SubElement(case, "properties")
            for name, value in notes.items():
                ElementTree.SubElement(properties, "property", name=name, value=value)
        if not row.get("passed"):
            failure = ElementTree.SubElement(case, "failure", message="; ".join(row.get("failures") or [])[:1000])
            failure.text = str(row.get("response_excerpt") or "")
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)
