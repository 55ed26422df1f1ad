"""The sandbox run: every row sent to a real server before review, and what the server answered kept.

A row meant to be valid that the server refuses, or an invalid one it accepts, is a row the
reviewer would otherwise find by running the case; step 6 repairs it from the answer. What a
row creates on the sandbox is deleted again where the API offers a way: the Location header,
or an id in the answer plus a DELETE operation on the created resource's path.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.database import session_scope
from core.generation.offline.server_repairs import repair_body
from core.library import catalog, environments, sending, setup_plan
from core.library.case_requests import CaseRequest, case_request, resolved
from core.library.environments import RunTarget
from core.library.failing_fields import Budget, Outcome, failing_fields
from core.library.resending import row_client
from core.library.setup_run import SetupFailed, at_path, clean_up, run_setup
from core.records import DataRow, SandboxRun, SetupStep, Verdict
from core.schema import variables
from core.schema.walk import has_at
from db.models import Scene

TIMEOUT_SECONDS = 10.0
EXCERPT_CHARS = 2000
"""Enough of an answer to read a validation error from."""
LONG_TEXT = 200
"""A JSON answer's strings are cut to this many characters, so that a validation error echoing a long
input keeps every message within the excerpt, and stays valid JSON."""
MAX_SETUP_REPAIRS = 4
"""Tries of a case's setup before the rows; each refused one fixes what the server named."""
LISTED_ITEM = re.compile(r"(^|\.)(\d+)(?=\.|$)")
"""The index of a listed item in a capture's dotted path (``dags.0.dag_id``)."""
MIN_QUOTED_CHARS = 3
"""A captured value shorter than this (``1``) is found in any answer: it says nothing."""
MAX_FAILURE_SENDS = 60
"""Bodies sent per case to find the fields that make the server fail valid rows (5xx)."""
MAX_OTHER_ITEMS = 25
"""Listed items tried after the first (one row each), when the server refuses every valid row naming the one taken
(the first eleven of Airflow's example DAGs, listed by name, have no schedule a backfill can follow)."""


def for_task(state: Mapping[str, Any], rows: list[DataRow]) -> SandboxRun | None:
    """The workflow's sandbox (WorkflowContext.sandbox): the rows sent to the task's module's sandbox
    environment, or None when the module has none (then nothing is sent anywhere)."""
    name = environments.module_environment(state["module_id"], "sandbox")
    if name is None:
        return None
    target = environments.target(name)
    setup = state["scene"].get("setup") or []
    with session_scope(read_only=True) as session:
        scene = session.get(Scene, state["scene"]["scene_id"])
        if scene is None:
            return None
        request = case_request(scene.method, scene.path, scene.parameters, rows, scene.request_media_type, setup)
        delete_path = catalog.delete_path(session, scene)
        schemas = _schemas(session, setup)
    request = replace(request, headers=target.headers)
    return _made_missing(target, request, rows, check(target, request, rows, delete_path, schemas),
                         state["scene"]["scene_id"])


def _made_missing(target: RunTarget, request: CaseRequest, rows: list[DataRow], run: SandboxRun,
                  scene_id: str) -> SandboxRun:
    """The run, its setup extended with steps making what the server said is missing ("Block document <id> not
    found") when the sandbox takes them: the rows send what they make from the next round on."""
    refusals = [verdict["excerpt"] for row in rows if row["kind"] != "invalid"
                and (verdict := run["verdicts"].get(row["name"])) and 400 <= (verdict["status"] or 0) < 500]
    if not refusals:
        return run
    with session_scope(read_only=True) as session:
        scene = session.get(Scene, scene_id)
        missing = setup_plan.for_missing(session, scene, run["setup"], refusals) if scene is not None else []
        schemas = _schemas(session, [*run["setup"], *missing])
    if not missing:
        return run
    values = {**target.variables, "run_id": f"sandbox-{secrets.token_hex(4)}"}
    with row_client(target.base_url, target.auth_headers, TIMEOUT_SECONDS) as client:
        setup, works = _repaired_setup(client, replace(request, setup=[*run["setup"], *missing]), values, schemas)
    return SandboxRun(verdicts=run["verdicts"], setup=setup) if works else run


def _schemas(session: Session, steps: list[SetupStep]) -> dict[str, dict[str, Any]]:
    """The request schema of each step's operation (to repair the step from the server's answer)."""
    return {item.id: item.request_schema for item in session.scalars(
        select(Scene).where(Scene.id.in_({step["scene_id"] for step in steps if step["scene_id"]})))}


def check(target: RunTarget, request: CaseRequest, rows: list[DataRow], delete_path: str | None,
          schemas: Mapping[str, dict[str, Any]] | None = None, timeout: float = TIMEOUT_SECONDS) -> SandboxRun:
    """Sends every row and returns its verdict; resources the rows created are deleted afterwards.

    The request's setup is tried first and a step the server refuses is repaired from its answer
    (``schemas``: each step's scene's request schema); the rows use the setup as repaired. When every valid
    row is refused naming what a lookup took from a list, the next listed items are tried with one valid row
    each; the first that suits it is tried with the other rows, and kept when more rows agree. A valid row
    the server fails (5xx), or refuses again as before its repair, is sent with fields left out, to name those
    it fails on (``fails_with``).
    ``delete_path`` is the path of the DELETE operation on one created resource (``/things/{id}``),
    when the API has one. Secrets the target sends are masked out of the verdicts.
    """
    values = {**target.variables, "run_id": f"sandbox-{secrets.token_hex(4)}"}
    with row_client(target.base_url, target.auth_headers, timeout) as client:
        request = replace(request, setup=_repaired_setup(client, request, values, schemas or {})[0])
        verdicts, found = _send_rows(client, request, rows, values, delete_path, target)
        probe = next((row for row in rows if row["kind"] != "invalid"), None)
        trial, tried = request, verdicts
        for _ in range(MAX_OTHER_ITEMS):  # the next listed items, while the server refuses each by name
            setup = _next_item(trial.setup, rows, tried, found)
            if setup is None or probe is None:
                break
            trial = replace(request, setup=setup)
            tried, found = _send_rows(client, trial, [probe], values, delete_path, target)
            if tried[probe["name"]]["agrees"]:  # one row per item until one suits, then the others once
                rest, _ = _send_rows(client, trial, [row for row in rows if row is not probe], values, delete_path,
                                     target)
                merged = {**tried, **rest}
                others = {row["name"]: merged[row["name"]] for row in rows}  # in the rows' order
                if _agreeing(rows, others) > _agreeing(rows, verdicts):
                    request, verdicts = trial, others
                break
        verdicts = _failing_fields(client, request, rows, verdicts, values, delete_path, target)
    return SandboxRun(verdicts=verdicts, setup=request.setup)


def _failing_fields(client: httpx.Client, request: CaseRequest, rows: list[DataRow], verdicts: dict[str, Verdict],
                    values: Mapping[str, str], delete_path: str | None, target: RunTarget) -> dict[str, Verdict]:
    """The verdicts, each valid row the server failed (5xx), or refused as it did before the row's last repair,
    marked with the fields it accepts the row without (``fails_with``): found once per answer, by sending the
    row with fields left out, for the rows that send them all. A refusal is searched only once the repair from
    its message has had its round: most say what to change, and changing beats leaving out."""
    budget = Budget(MAX_FAILURE_SENDS)
    found: dict[str, list[list[str]]] = {}
    marked = dict(verdicts)
    for row in rows:
        verdict = verdicts.get(row["name"])
        if row["kind"] == "invalid" or verdict is None or not _unexplained(verdict, row.get("sandbox")):
            continue
        known = found.setdefault(_gist(verdict), [])
        fields = next((fields for fields in known if all(has_at(row["body"], pointer) for pointer in fields)), None)
        if fields is None:
            def answer(body: Any, row: DataRow = row, first: Verdict = verdict) -> Outcome | None:
                tried, _ = _send_rows(client, request, [DataRow(**{**row, "body": body})], values, delete_path,
                                      target)
                return _outcome(first, tried[row["name"]])
            fields = failing_fields(answer, row["body"], budget)
            known += [fields] if fields else []
        if fields:
            marked[row["name"]] = Verdict(**verdict, fails_with=fields)
    return marked


def _unexplained(verdict: Verdict, previous: Verdict | None) -> bool:
    """A server failure (5xx), or a refusal (4xx) the same as the last round's, its repair notwithstanding."""
    status = verdict["status"] or 0
    if status >= 500:
        return True
    return 400 <= status < 500 and previous is not None and _gist(previous) == _gist(verdict)


def _outcome(first: Verdict, answer: Verdict) -> Outcome | None:
    """What the server did with a body left short, against what it did with the whole one (``first``)."""
    status = answer["status"]
    if status is None:
        return None
    if 200 <= status < 300:
        return "accepted"
    same = status >= 500 if (first["status"] or 0) >= 500 else _gist(answer) == _gist(first)
    return "fails" if same else "refused"


IDS = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|\d+")


def _gist(verdict: Verdict) -> str:
    """The answer without its ids and numbers: a server failure is one, a refusal its status and message."""
    if (verdict["status"] or 0) >= 500:
        return "5xx"
    return f"{verdict['status']} {IDS.sub('#', verdict['excerpt'])}"


def _send_rows(client: httpx.Client, request: CaseRequest, rows: list[DataRow], values: Mapping[str, str],
               delete_path: str | None, target: RunTarget) -> tuple[dict[str, Verdict], dict[str, Any]]:
    """Each row's verdict, and the values the setup captured; what the rows created is deleted after."""
    verdicts: dict[str, Verdict] = {}
    found: dict[str, Any] = {}
    created: list[str] = []
    for row in rows:
        verdict, location, prepared = _send(client, request, row, values, delete_path)
        verdicts[row["name"]] = target.redact(verdict)
        found = prepared or found
        if location:
            created.append(location)
    for location in created:
        try:
            client.delete(location)
        except httpx.HTTPError:
            pass  # the sandbox keeps it; nothing the review depends on
    return verdicts, found


def _next_item(setup: list[SetupStep], rows: list[DataRow], verdicts: Mapping[str, Verdict],
               found: Mapping[str, Any]) -> list[SetupStep] | None:
    """The setup taking the next listed item, when no valid row was accepted and every refusal (4xx) names the
    one a lookup took from a list ("dag_a has a non-periodic schedule that does not support backfills": the
    first DAG listed does not suit the operation, the next may); None when nothing points at a lookup."""
    sent = [verdicts[row["name"]] for row in rows if row["kind"] != "invalid" and row["name"] in verdicts]
    refused = [verdict for verdict in sent if 400 <= (verdict["status"] or 0) < 500]
    if not refused or any(verdict["agrees"] for verdict in sent):
        return None  # a server failure (5xx) among the refusals says nothing about the item
    for index, step in enumerate(setup):
        named = step["method"] == "GET" and any(
            len(str(found.get(name, ""))) >= MIN_QUOTED_CHARS
            and all(str(found[name]) in verdict["excerpt"] for verdict in refused) for name in step["captures"])
        if not named:
            continue
        moved = {name: [LISTED_ITEM.sub(_following, path, count=1) for path in paths]
                 for name, paths in step["captures"].items()}
        if moved != step["captures"]:
            return [*setup[:index], SetupStep(**{**step, "captures": moved}), *setup[index + 1:]]
    return None


def _following(match: re.Match[str]) -> str:
    return f"{match[1]}{int(match[2]) + 1}"


def _agreeing(rows: list[DataRow], verdicts: Mapping[str, Verdict]) -> int:
    return sum(1 for row in rows if row["name"] in verdicts and verdicts[row["name"]]["agrees"])


def _repaired_setup(client: httpx.Client, request: CaseRequest, values: Mapping[str, str],
                    schemas: Mapping[str, dict[str, Any]]) -> tuple[list[SetupStep], bool]:
    """The setup, each step the server refuses fixed from its answer (at most MAX_SETUP_REPAIRS times), and
    whether the server then takes it all."""
    steps = list(request.setup)
    for _ in range(MAX_SETUP_REPAIRS if steps else 0):
        try:
            _, cleanups = run_setup(client, steps, values, request.headers)
        except SetupFailed as failure:
            step = steps[failure.step]
            schema = schemas.get(step["scene_id"] or "")
            if failure.status is None or not 400 <= failure.status < 500 or not schema or step["body"] is None:
                break
            body, notes = repair_body(step["body"], failure.status, failure.answer, schema)
            if not notes:
                break
            steps[failure.step] = SetupStep(**{**step, "body": body,
                                               "repairs": [*step.get("repairs", []), *notes]})
            continue
        clean_up(client, cleanups)
        return steps, True
    return steps, not steps


def _send(client: httpx.Client, request: CaseRequest, row: DataRow, values: Mapping[str, str],
          delete_path: str | None) -> tuple[Verdict, str | None, dict[str, Any] | None]:
    """The row's verdict, where to delete what it created, and the values its setup captured (None: it failed)."""
    clock = time.monotonic()
    try:
        prepared, cleanups = run_setup(client, request.setup, values, request.headers)
    except SetupFailed as error:
        return _failed(str(error), clock), None, None
    try:
        body = variables.resolve(row["body"], prepared)
        sent = resolved(request, prepared)
        response = sending.send(client, sent.method, sent.path, params=sent.query, headers=sent.headers,
                                **sent.body_arguments(body))
    except (httpx.HTTPError, variables.UnknownVariable) as error:
        return _failed(f"request failed: {type(error).__name__}: {error}", clock), None, prepared
    finally:
        clean_up(client, cleanups)
    verdict = Verdict(status=response.status_code, excerpt=excerpt(response.text), duration_ms=_since(clock),
                      agrees=agrees(row["kind"], response.status_code))
    return verdict, _created(response, delete_path) if response.is_success else None, prepared


def _failed(problem: str, clock: float) -> Verdict:
    """The verdict of a row that was not sent: no status, and why."""
    return Verdict(status=None, excerpt=problem[:EXCERPT_CHARS], duration_ms=_since(clock), agrees=False)


def excerpt(text: str) -> str:
    """The start of an answer; a JSON answer with its long strings and lists cut first, so it still parses."""
    if len(text) <= EXCERPT_CHARS:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text[:EXCERPT_CHARS]
    return json.dumps(_shortened(data), ensure_ascii=False)[:EXCERPT_CHARS]


def _shortened(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= LONG_TEXT else value[:LONG_TEXT] + "…"
    if isinstance(value, list):
        return [_shortened(item) for item in value[:20]]
    if isinstance(value, dict):
        return {key: _shortened(item) for key, item in value.items()}
    return value


def agrees(kind: str, status: int) -> bool:
    """Whether an answer fits a row: 2xx for valid and boundary rows, 4xx for invalid ones."""
    return 200 <= status < 300 if kind in ("valid", "boundary") else 400 <= status < 500


def _created(response: httpx.Response, delete_path: str | None) -> str | None:
    """Where to delete what the request created: its Location, or the answer's id in the DELETE path."""
    if response.request.method != "POST":
        return None
    location = response.headers.get("location")
    if location:
        return location
    if delete_path is None:
        return None
    try:
        data: Any = response.json()
    except ValueError:
        return None
    last = re.search(r"\{([^{}]+)\}$", delete_path)
    paths = setup_plan.capture_paths(last.group(1), {}) if last else []
    ident = next((found for path in paths if (found := at_path(data, path)) is not None), None)
    if ident is None:
        return None
    collection = response.request.url.copy_with(query=None, fragment=None)  # the path as sent, parameters filled
    return f"{str(collection).rstrip('/')}/{quote(str(ident), safe='')}"


def _since(clock: float) -> int:
    return round((time.monotonic() - clock) * 1000)
