"""Exporting automation cases: as JSON, as a standalone pytest file (httpx), and a whole module as a zip.

An exported pytest file needs only pytest and httpx. It reads the API's base URL from
BASE_URL and an optional token from CASEFLOW_API_TOKEN (sent as a Bearer token); no
secret is ever written into it. Its response checks are the source of
``core.response_checks``, embedded verbatim, so it judges responses exactly as the
in-app runner does.
"""

from __future__ import annotations

import ast
import inspect
import io
import json
import pprint
import re
import zipfile
from dataclasses import dataclass

from sqlalchemy import select

from core.database import session_scope
from core.errors import InvalidInput, NotFound
from core.library import response_checks
from core.library.automation_cases import case_as_dict
from core.library.runs import TOKEN_VARIABLE, CaseRequest, case_request
from db.models import AutomationCase, Scene
from db.types import isoformat, utcnow

FORMATS = ("json", "pytest")
JSON_FORMAT = "caseflow.automation-case/1"
BASE_URL_VARIABLE = "BASE_URL"


@dataclass(frozen=True, kw_only=True)
class Export:
    """A file to hand to the user."""

    filename: str
    content: bytes
    media_type: str


def export_case(case_id: int, fmt: str) -> Export:
    """One automation case as "json" or "pytest"."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown export format {fmt!r}: use {' or '.join(FORMATS)}.")
    with session_scope(read_only=True) as session:
        case = session.get(AutomationCase, case_id)
        if case is None:
            raise NotFound(f"No automation case with id {case_id} (UC{case_id}).")
        scene = session.get(Scene, case.scene_id) if case.scene_id else None
        return _export(case, scene, fmt)


def export_module(module_id: str) -> Export:
    """Every automation case of a module, as pytest and JSON files in one zip."""
    with session_scope(read_only=True) as session:
        cases = session.scalars(select(AutomationCase).where(AutomationCase.module_id == module_id)
                                .order_by(AutomationCase.id)).all()
        if not cases:
            raise NotFound(f"No automation cases in module {module_id!r}.")
        scenes = {scene.id: scene for scene in session.scalars(
            select(Scene).where(Scene.id.in_({case.scene_id for case in cases if case.scene_id})))}
        files = [_export(case, scenes.get(case.scene_id or ""), fmt) for case in cases for fmt in FORMATS]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(module_id, len(cases)))
        for item in files:
            archive.writestr(item.filename, item.content)
    return Export(filename=f"caseflow_{_slug(module_id) or 'module'}.zip", content=buffer.getvalue(),
                  media_type="application/zip")


def _export(case: AutomationCase, scene: Scene | None, fmt: str) -> Export:
    request = case_request(case.method, case.path, scene.parameters if scene else [], case.rows)
    stem = "_".join(part for part in (case.code.lower(), _slug(case.name)) if part)
    if fmt == "json":
        return Export(filename=f"{stem}.json", content=_json(case, scene, request).encode("utf-8"),
                      media_type="application/json")
    filename = f"test_{stem}.py"
    return Export(filename=filename, content=pytest_file(case, request, filename).encode("utf-8"),
                  media_type="text/x-python")


def _json(case: AutomationCase, scene: Scene | None, request: CaseRequest) -> str:
    document = {
        "format": JSON_FORMAT,
        "exported_at": isoformat(utcnow()),
        "case": {**case_as_dict(case), "code": case.code},
        "request": {"method": request.method, "path": request.path, "query": request.query,
                    "send_body": request.send_body},
        "scene": None if scene is None else {"id": scene.id, "name": scene.name, "method": scene.method,
                                             "path": scene.path, "request_schema": scene.request_schema},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def pytest_file(case: AutomationCase, request: CaseRequest, filename: str) -> str:
    """A standalone pytest module: one parametrized test, one test per data row."""
    rows = pprint.pformat(case.rows, indent=1, width=110, sort_dicts=False)
    return PYTEST_TEMPLATE.format(
        code=case.code, name=case.name.replace('"""', "'''"), method=request.method, scene_path=case.path,
        exported=isoformat(utcnow()), filename=filename, base_variable=BASE_URL_VARIABLE, token_variable=TOKEN_VARIABLE,
        path=repr(request.path), query=repr(request.query), send_body=request.send_body, rows=rows,
        checks=_checks_source(),
    )


def _checks_source() -> str:
    """The functions and constants of core.response_checks, without its docstring and imports."""
    source = inspect.getsource(response_checks)
    tree = ast.parse(source)
    first = next(node for node in tree.body
                 if not isinstance(node, (ast.Import, ast.ImportFrom))
                 and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)))
    return "\n".join(source.splitlines()[first.lineno - 1:]).strip() + "\n"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40]


def _readme(module_id: str, count: int) -> str:
    return (f"CaseFlow automation cases of module {module_id!r}: {count} case(s), exported {isoformat(utcnow())}.\n\n"
            f"Each test_*.py file needs only pytest and httpx:\n\n"
            f"    pip install pytest httpx\n"
            f"    {BASE_URL_VARIABLE}=https://api.example.test {TOKEN_VARIABLE}=... pytest\n\n"
            f"{TOKEN_VARIABLE} is optional; when set it is sent as 'Authorization: Bearer <token>'.\n"
            f"The .json files hold the same cases as data.\n")


PYTEST_TEMPLATE = '''r"""{code} {name}: {method} {scene_path}, exported from CaseFlow at {exported}.

Run it against any environment of the API (needs only pytest and httpx):

    {base_variable}=https://api.example.test pytest {filename}

Set {token_variable} to send "Authorization: Bearer <token>"; it is read from the
environment, never stored here.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import pytest

BASE_URL_VARIABLE = "{base_variable}"
TOKEN_VARIABLE = "{token_variable}"
METHOD = "{method}"
PATH = {path}
QUERY = {query}
SEND_BODY = {send_body}
ROWS = {rows}


# Response checks: the same code CaseFlow's in-app runner uses.
{checks}

@pytest.fixture(scope="module")
def client() -> Any:
    base_url = os.environ.get(BASE_URL_VARIABLE, "").strip().rstrip("/")
    if not base_url:
        pytest.fail(f"Set {{BASE_URL_VARIABLE}} to the API's base URL, "
                    f"e.g. {{BASE_URL_VARIABLE}}=https://api.example.test")
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    headers = {{"Authorization": f"Bearer {{token}}"}} if token else {{}}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as session:
        yield session


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_row(client: httpx.Client, row: dict[str, Any]) -> None:
    response = client.request(METHOD, PATH, params=QUERY, json=row["body"] if SEND_BODY else None)
    problems = failures(row_checks(row), response.status_code, response.text)
    assert not problems, (
        f"{{row['name']}} ({{row['kind']}}): " + "; ".join(problems)
        + f"\\nrequest: {{json.dumps(row['body'], ensure_ascii=False)[:500]}}\\nresponse: {{response.text[:500]}}"
    )
'''
