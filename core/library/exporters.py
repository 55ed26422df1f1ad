"""Exporting automation cases: as JSON, as a standalone pytest file (httpx), and a whole module as a zip.

An exported pytest file needs only pytest and httpx. It reads the API's base URL from
BASE_URL and an optional token from CASEFLOW_API_TOKEN (sent as a Bearer token); no
secret is ever written into it. Its response checks are the source of
``core.response_checks``, embedded verbatim, so it judges responses exactly as the
in-app runner does.

Data never becomes code: the pytest file is fixed source plus one string literal, the
case's JSON export, written with ``repr()`` and parsed by ``json.loads`` when the file is
imported. No name, path, schema value or row is spliced into its source any other way.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.database import session_scope
from core.errors import InvalidInput, NotFound
from core.inputs import label, max_length
from core.library import resending, response_checks, sending, setup_run
from core.library.automation_cases import case_as_dict
from core.library.case_requests import case_request
from core.library.runs import TOKEN_VARIABLE
from core.schema import variables
from db.models import AutomationCase, Scene
from db.types import isoformat, utcnow

FORMATS = ("json", "pytest")
JSON_FORMAT = "caseflow.automation-case/1"
BASE_URL_VARIABLE = "BASE_URL"
MODULE_LIMIT = max_length(AutomationCase.module_id)


@dataclass(frozen=True, kw_only=True)
class Export:
    """A file to hand to the user."""

    filename: str
    content: bytes
    media_type: str


def export_case(case_id: int, fmt: str) -> Export:
    """One automation case as "json" or "pytest"."""
    if fmt not in FORMATS:
        raise InvalidInput("Unknown export format {fmt!r}: use {value}.", fmt=fmt, value=' or '.join(FORMATS))
    with session_scope(read_only=True) as session:
        case = session.get(AutomationCase, case_id)
        if case is None:
            raise NotFound("No automation case with id {case_id} (UC{case_id}).", case_id=case_id)
        scene = session.get(Scene, case.scene_id) if case.scene_id else None
        return _export(case, scene, fmt)


def export_module(module_id: str) -> Export:
    """Every automation case of a module, as pytest and JSON files in one zip."""
    module_id = label(module_id, "The module", MODULE_LIMIT)
    with session_scope(read_only=True) as session:
        cases = session.scalars(select(AutomationCase).where(AutomationCase.module_id == module_id)
                                .order_by(AutomationCase.id)).all()
        if not cases:
            raise NotFound("No automation cases in module {module_id!r}.", module_id=module_id)
        scenes = {scene.id: scene for scene in session.scalars(
            select(Scene).where(Scene.id.in_({case.scene_id for case in cases if case.scene_id})))}
        files = [_export(case, scenes.get(case.scene_id or ""), fmt) for case in cases for fmt in FORMATS]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(module_id, len(cases)))
        for item in files:
            archive.writestr(item.filename, item.content)
    return Export(filename=archive_name(module_id), content=buffer.getvalue(), media_type="application/zip")


def archive_name(module_id: str) -> str:
    """``caseflow_<slug>_<hash>.zip``: readable, and distinct for distinct modules (a Chinese name has no slug)."""
    digest = hashlib.sha256(module_id.encode("utf-8")).hexdigest()[:8]
    return f"caseflow_{_slug(module_id) or 'module'}_{digest}.zip"


def _export(case: AutomationCase, scene: Scene | None, fmt: str) -> Export:
    document = export_document(case, scene)
    stem = "_".join(part for part in (case.code.lower(), _slug(case.name)) if part)
    if fmt == "json":
        return Export(filename=f"{stem}.json", content=(json_text(document, indent=2) + "\n").encode("utf-8"),
                      media_type="application/json")
    return Export(filename=f"test_{stem}.py", content=pytest_file(case.id, document).encode("utf-8"),
                  media_type="text/x-python")


def export_document(case: AutomationCase, scene: Scene | None) -> dict[str, Any]:
    """The JSON export of a case: the case, the request every row sends, and its scene."""
    request = case_request(case.method, case.path, scene.parameters if scene else [], case.rows,
                           scene.request_media_type if scene else "application/json", case.setup)
    return {
        "format": JSON_FORMAT,
        "exported_at": isoformat(utcnow()),
        "case": {**case_as_dict(case), "code": case.code},
        "request": {"method": request.method, "path": request.path, "query": request.query,
                    "send_body": request.send_body, "media_type": request.media_type, "setup": request.setup},
        "scene": None if scene is None else {"id": scene.id, "name": scene.name, "method": scene.method,
                                             "path": scene.path, "request_schema": scene.request_schema},
    }


def json_text(document: dict[str, Any], *, indent: int) -> str:
    """``document`` as strict JSON; a value JSON cannot hold is refused, not written as ``NaN``."""
    try:
        return json.dumps(document, ensure_ascii=False, allow_nan=False, indent=indent)
    except ValueError:
        raise InvalidInput(
            "{document_case_code} cannot be exported: its rows or its scene's schema hold a number JSON cannot "
            "represent (NaN, Infinity, or an integer of more than 4300 digits).",
            document_case_code=document['case']['code']
        ) from None


EMBEDDED = (variables, sending, resending, setup_run, response_checks)
"""The modules whose code an exported pytest file carries: it sends and judges rows as the in-app runner does."""


def pytest_file(case_id: int, document: dict[str, Any]) -> str:
    """A standalone pytest module: one parametrized test, one test per data row of ``document`` (an export)."""
    return PYTEST_TEMPLATE.format(
        case_id=case_id, base_variable=BASE_URL_VARIABLE, token_variable=TOKEN_VARIABLE,
        case=string_literal(json_text(document, indent=1)),
        shared="\n\n".join(_source_of(module) for module in EMBEDDED),
    )


def string_literal(text: str) -> str:
    """Python source evaluating to ``text``: one ``repr()`` per line, indented for a call's parentheses.

    ``repr`` escapes every quote, backslash, control and invisible character, so nothing in
    ``text`` can end the literal; splitting at newlines only keeps the file readable.
    """
    lines = text.split("\n")
    pieces = [repr(line + "\n") for line in lines[:-1]] + [repr(lines[-1])]
    return "\n".join(f"    {piece}" for piece in pieces)


def _source_of(module: Any) -> str:
    """The functions, classes and constants of a module, without its docstring and imports (the exported file
    imports what they need: the standard library and httpx)."""
    source = inspect.getsource(module)
    tree = ast.parse(source)
    first = next(node for node in tree.body
                 if not isinstance(node, (ast.Import, ast.ImportFrom))
                 and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)))
    return "\n".join(source.splitlines()[first.lineno - 1:]).strip() + "\n"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower())[:40].strip("_")


def _readme(module_id: str, count: int) -> str:
    return (f"CaseFlow automation cases of module {module_id!r}: {count} case(s), exported {isoformat(utcnow())}.\n\n"
            f"Each test_*.py file needs only pytest and httpx:\n\n"
            f"    pip install pytest httpx\n"
            f"    {BASE_URL_VARIABLE}=https://api.example.test {TOKEN_VARIABLE}=... pytest\n\n"
            f"{TOKEN_VARIABLE} is optional; when set it is sent as 'Authorization: Bearer <token>'.\n"
            f"The .json files hold the same cases as data.\n")


PYTEST_TEMPLATE = '''"""CaseFlow automation case UC{case_id:d}: one test per data row (needs only pytest and httpx).

Run it against any environment of the API:

    {base_variable}=https://api.example.test pytest <this file>

Set {token_variable} to send "Authorization: Bearer <token>"; it is read from the
environment, never stored here. Run-time variables in the rows ({{{{$uuid}}}}, {{{{$randomInt}}}} ...)
are resolved afresh on every run; {{{{NAME}}}} is read from the environment variable NAME. Before
each row, the fixture `prepared` sends the case's setup steps (REQUEST["setup"]: what the row's
path needs to exist) and captures their ids; after it, deletes what they created. The
case (its name, request and rows with their checks) is CASE below: CaseFlow's JSON export of
it, parsed when this file is imported.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

BASE_URL_VARIABLE = {base_variable!r}
TOKEN_VARIABLE = {token_variable!r}
CASE: dict[str, Any] = json.loads(
{case}
)
REQUEST: dict[str, Any] = CASE["request"]
ROWS: list[dict[str, Any]] = CASE["case"]["rows"]


# Variables, request building and response checks: the same code CaseFlow's in-app runner uses.
{shared}

RUN_VALUES = {{**os.environ, "run_id": f"run-{{secrets.token_hex(4)}}"}}


@pytest.fixture(scope="module")
def client() -> Any:
    base_url = os.environ.get(BASE_URL_VARIABLE, "").strip().rstrip("/")
    if not base_url:
        pytest.fail(f"Set {{BASE_URL_VARIABLE}} to the API's base URL, "
                    f"e.g. {{BASE_URL_VARIABLE}}=https://api.example.test")
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    headers = {{"Authorization": f"Bearer {{token}}"}} if token else {{}}
    with row_client(base_url, headers, 30) as session:
        yield session


@pytest.fixture
def prepared(client: httpx.Client) -> Any:
    values, cleanups = run_setup(client, REQUEST.get("setup") or [], RUN_VALUES, {{}})
    yield values
    clean_up(client, cleanups)


@pytest.mark.parametrize("row", ROWS, ids=[str(row.get("name")) for row in ROWS])
def test_row(client: httpx.Client, prepared: dict[str, Any], row: dict[str, Any]) -> None:
    body = resolve(row.get("body"), prepared) if REQUEST["send_body"] else None
    path, query, headers = resolved_target(REQUEST["path"], REQUEST["query"], {{}}, prepared)
    sent = body_arguments(REQUEST.get("media_type", "application/json"), REQUEST["send_body"], body)
    response = send(client, REQUEST["method"], path, params=query, headers=headers, **sent)
    problems, _ = judge(row, response.status_code, response.text)
    assert not problems, (
        f"{{row.get('name')}} ({{row.get('kind')}}): " + "; ".join(problems)
        + f"\\nrequest: {{json.dumps(body, ensure_ascii=False)[:500]}}\\nresponse: {{response.text[:500]}}"
    )
'''
