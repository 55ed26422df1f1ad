"""Data never becomes code: hostile text in every field that reaches an export is carried as data, end to end.

Each export must compile, have exactly the code of an export of nothing (the data is one
string constant), give its values back unchanged, and run under pytest against a real
server with the same results as the in-app runner, without running anything else: a
marker file that the hostile text tries to create never appears, and a directory it
tries to delete is still there.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from core import service
from core.database import session_scope
from core.library import exporters
from db.models import AutomationCase
from tests.conftest import wait_for
from tests.integration.test_cli import ROOT, ok
from tests.support.cases import all_scenes, offline_case
from tests.support.echo_api import serve
from tests.support.exports import code_shape, embedded_case, run_pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PARTNER = FIXTURES / "hostile" / "partner_rce.json"
RAIL = FIXTURES / "openapi" / "lumen-rail.json"
SAFE_FILENAME = re.compile(r"(test_)?uc\d+(_[a-z0-9_]+)?\.(py|json)")


class Hostile:
    """Text that is code in some quoting context of Python, of a shell or of SQL, aimed at one marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.canary = marker.with_suffix(".d")  # what "; rm -rf" would delete
        run = f"__import__('os').system('touch {marker}')"
        self.parts = ['"""', "'''", f"\n{run}\n", "{0} {code} {checks} %s %(name)s", "\r\n", f"$(touch {marker})",
                      f"; rm -rf {self.canary}", "'; DROP TABLE automation_cases; --", "\nfrom __future__ import x\n",
                      f'"+{run}+"', f"'+{run}+'", f"`touch {marker}`"]

    def text(self, limit: int = 300, *, nul: bool = False) -> str:
        """As many parts as fit in ``limit`` characters, then a NUL when asked, ending in a backslash."""
        text = ""
        for part in self.parts:
            if len(text) + len(part) < limit - 2:
                text += part
        return text + ("\x00" if nul else "") + "\\"

    def url_text(self) -> str:
        """Hostile, but a path httpx can send: no control characters, braces, "?" or "#"."""
        return "".join(part for part in self.parts if not re.search(r"[\x00-\x1f{}?#]", part)) + "\\"

    def line_text(self) -> str:
        """Hostile with every line break a path can hold, which no HTTP client can send."""
        return self.text(200).replace("{", "(").replace("}", ")")


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    found = Hostile(Path(tempfile.gettempdir()) / f"caseflow-marker-{uuid.uuid4().hex[:8]}")
    found.canary.mkdir()
    yield found
    found.marker.unlink(missing_ok=True)
    found.canary.rmdir()


def hostile_document(hostile: Hostile, nul: bool) -> dict[str, Any]:
    """An OpenAPI document with hostile text in its paths, ids, names, schemas, parameters and responses."""
    text = hostile.text(300, nul=nul)
    schema = {
        "type": "object", "required": [hostile.text(100), "b"], "description": text, "title": text,
        "properties": {
            hostile.text(100): {"type": "string", "enum": [text, hostile.text(60)], "description": text},
            "b": {"type": "string", "maxLength": 400, "default": text, "example": text},
            "n": {"type": "integer", "minimum": 1, "maximum": 9, "description": text},
        },
    }
    parameters = [
        {"name": "item", "in": "path", "required": True, "schema": {"type": "string"}, "example": text},
        {"name": text, "in": "query", "required": True, "schema": {"type": "string", "enum": [text]}},
    ]

    def operation(operation_id: str) -> dict[str, Any]:
        return {"operationId": operation_id + text, "summary": hostile.text(200), "description": text,
                "tags": [hostile.text(100)], "parameters": parameters,
                "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
                "responses": {"201": {"description": text}, "422": {"description": text}}}

    return {
        "openapi": "3.0.3", "info": {"title": "Hostile " + hostile.text(150), "version": "1"},
        "paths": {"/h/{item}/" + hostile.url_text(): {"post": operation("hostileData")},
                  "/h/{item}/" + hostile.line_text(): {"put": operation("hostileLines")}},
    }


def scene_with_method(method: str) -> dict[str, Any]:
    (scene,) = [scene for scene in all_scenes() if scene["method"] == method]
    return scene


def outcomes(result: Any) -> dict[str, int]:
    """{"passed": n, "failed": m, ...} from pytest's summary line."""
    summary = result.stdout.strip().splitlines()[-1]
    return {kind.rstrip("s"): int(count) for count, kind in re.findall(r"(\d+) (passed|failed|errors?)", summary)}


def assert_exports_are_data(case_id: int, tmp_path: Path, hostile: Hostile) -> dict[str, Any]:
    """Both exports of the case are safe and equal to what is stored; the pytest file agrees with the runner."""
    case = service.get_automation_case(case_id)
    exported = service.export_case(case_id, "pytest")
    as_json = service.export_case(case_id, "json")
    assert SAFE_FILENAME.fullmatch(exported.filename) and SAFE_FILENAME.fullmatch(as_json.filename)
    source = exported.content.decode("utf-8")
    compile(source, exported.filename, "exec")
    assert code_shape(source) == code_shape(exporters.pytest_file(case_id, {})), "only the data differs"
    document = json.loads(as_json.content, parse_constant=lambda token: pytest.fail(f"{token} in a JSON export"))
    assert {**embedded_case(source), "exported_at": None} == {**document, "exported_at": None}
    assert document["case"]["rows"] == case["rows"] and document["case"]["name"] == case["name"]
    assert document["scene"]["path"] == case["path"]

    folder = tmp_path / f"uc{case_id}"
    folder.mkdir()
    test_file = folder / exported.filename
    test_file.write_bytes(exported.content)
    with serve(all_scenes()) as api:
        result = run_pytest(test_file, BASE_URL=api.base_url)
        run = service.run_case(case_id, api.base_url, user="admin")
    counts = outcomes(result)
    assert counts == {key: run[key] for key in ("passed", "failed") if run[key]}, result.stdout[-3000:]
    assert not hostile.marker.exists() and hostile.canary.is_dir(), "the export ran code"
    assert {path.name for path in folder.iterdir()} <= {exported.filename, "__pycache__"}
    return run


def test_hostile_text_in_every_field_is_exported_as_data(db_url: str, users: dict[str, str], worker: Any,
                                                         hostile: Hostile, tmp_path: Path) -> None:
    nul = False  # NUL is refused in text on every backend (core.inputs); bodies and checks below still carry it
    service.import_openapi(json.dumps(hostile_document(hostile, nul)).encode(), "hostile.json", user="admin")
    data_scene = scene_with_method("POST")
    text = hostile.text(300, nul=nul)
    case = service.create_test_case({
        "title": text, "module": hostile.text(100, nul=nul), "preconditions": text, "steps": text,
        "expected_result": f"返回201；无效请求返回422, error \"{hostile.text(60).replace(chr(34), '')}\" {text}",
        "scene_id": data_scene["id"],
    }, user=users["engineer"])
    name, module = hostile.text(300), hostile.text(100)
    started = service.start_workflow(case["id"], data_scene["id"], name=name, module_id=module, user="admin")
    task = wait_for(started["task_id"], "reviewing", timeout=60)
    service.submit_review(task["thread_id"], "rejected", feedback=hostile.text(10_000), reviewer="admin")
    task = wait_for(started["task_id"], "reviewing", timeout=60)
    assert task["interrupt_data"]["round"] == 2
    generated = task["interrupt_data"]["generated_body"]
    added = {
        "name": hostile.text(200), "kind": "invalid", "expected_status": 422, "description": text,
        "body": {hostile.text(100, nul=True): text, "nested": [text, {text: None}], "n": 10},
        "checks": [{"kind": "json_path_exists", "path": hostile.text(100), "expected": None},
                   {"kind": "json_path_equals", "path": "code", "expected": text},
                   {"kind": "body_contains", "path": None, "expected": hostile.text(300, nul=True)}],
    }
    edited = {"name": generated[0]["name"], "body": {**generated[0]["body"], "b": hostile.text(300, nul=True)}}
    done = service.submit_review(task["thread_id"], "approved", corrected_body=[edited, *generated[1:], added],
                                 feedback=text.replace("\x00", ""), reviewer="admin", wait_seconds=30)
    assert done["status"] == "completed", done
    stored = service.get_automation_case(done["created_case"]["id"])
    assert (stored["name"], stored["module_id"]) == (name, module)
    assert stored["rows"][-1]["name"] == added["name"] and stored["rows"][-1]["checks"] == added["checks"]

    run = assert_exports_are_data(stored["id"], tmp_path, hostile)
    assert run["passed"] >= 1, "rows whose checks hold pass in both runners"

    bundle = service.export_module(module)
    assert re.fullmatch(r"caseflow_[a-z0-9_]*_[0-9a-f]{8}\.zip", bundle.filename), bundle.filename
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        for member in archive.namelist():
            assert member == "README.txt" or SAFE_FILENAME.fullmatch(member), member
            if member.endswith(".py"):
                compile(archive.read(member).decode("utf-8"), member, "exec")


def test_a_path_no_client_can_send_fails_its_rows_in_both_runners(users: dict[str, str], hostile: Hostile,
                                                                   tmp_path: Path) -> None:
    service.import_openapi(json.dumps(hostile_document(hostile, nul=False)).encode(), "hostile.json", user="admin")
    case_id = offline_case(scene_with_method("PUT")["id"])
    run = assert_exports_are_data(case_id, tmp_path, hostile)
    assert run["passed"] == 0 and all(row["failures"][0].startswith("request failed: InvalidURL")
                                      for row in run["rows"])


def test_the_probes_partner_document_runs_no_code(db_url: str, users: dict[str, str], worker: Any,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe's reproduction, command by command: import, start, approve, export, run pytest."""
    monkeypatch.setenv("CASEFLOW_USER", users["admin"])  # the commands act as the operator's admin
    markers = [tmp_path / "pwned-marker", ROOT / "pwned-marker"]  # the document touches a relative path
    ok("import-openapi", str(PARTNER), db_url=db_url)
    cases = tmp_path / "cases_partner.csv"
    cases.write_text("title,module,expected result,scene\nCreate partner,Partners,returns 201,partnerCreate\n",
                     encoding="utf-8")
    (test_case_id,) = ok("import-cases", str(cases), db_url=db_url)["ids"]
    started = ok("start", "--test-case", str(test_case_id), "--scene", "partnerCreate", db_url=db_url)
    wait_for(started["task_id"], "reviewing", timeout=60)
    reviewed = ok("review", started["thread_id"], "--status", "approved", "--wait", "30", db_url=db_url)
    assert reviewed["status"] == "completed", reviewed
    exported = ok("export", reviewed["new_usercase_id"], "--format", "pytest", "--output", str(tmp_path),
                  db_url=db_url)
    with serve(all_scenes()) as api:
        result = run_pytest(Path(exported["file"]), BASE_URL=api.base_url)
    assert result.returncode == 0, result.stdout[-3000:]
    assert not any(marker.exists() for marker in markers), "the exported file ran the document's code"


def test_rows_stored_in_any_shape_export_and_run_without_crashing(users: dict[str, str], tmp_path: Path) -> None:
    """Rows stored before reviewers' rows were checked: odd names and checks fail with a reason, nothing crashes."""
    service.import_openapi(RAIL.read_bytes(), RAIL.name, user="admin")
    case_id = offline_case("createBooking")
    legacy = [
        {"name": {"x": 1}, "kind": "valid", "body": {}, "expected_status": 201, "checks": "notalist"},
        {"name": None, "body": {}, "expected_status": 422, "checks": [1, {"kind": "json_path_exists", "path": 5}]},
        {"name": 7, "checks": [{"kind": "status", "expected": "201"}, {"kind": None}]},
    ]
    with session_scope() as session:
        session.execute(update(AutomationCase).where(AutomationCase.id == case_id).values(rows=legacy))
    exported = service.export_case(case_id, "pytest")
    test_file = tmp_path / exported.filename
    test_file.write_bytes(exported.content)
    with serve(all_scenes()) as api:
        result = run_pytest(test_file, BASE_URL=api.base_url)
        run = service.run_case(case_id, api.base_url, user="admin")
    assert outcomes(result) == {"failed": 3} and run["failed"] == 3, result.stdout[-3000:]
    assert all(f"test_row[{name}]" in result.stdout for name in ("{'x': 1}", "None", "7")), result.stdout[-3000:]
    assert run["rows"][0]["failures"] == ["status: expected 201, got 422", "not a check: 'notalist'"]
    assert run["rows"][1]["failures"] == ["not a check: 1", "json_path_exists: the path 5 is not text"]
    assert json.loads(service.export_case(case_id, "json").content)["case"]["rows"] == legacy


def test_every_module_gets_its_own_archive_name(users: dict[str, str]) -> None:
    service.import_openapi(RAIL.read_bytes(), RAIL.name, user="admin")
    modules = ["订单", "支付", "Orders", "orders", "Orders!"]
    for module in modules:
        case_id = offline_case("createBooking")
        with session_scope() as session:
            session.execute(update(AutomationCase).where(AutomationCase.id == case_id).values(module_id=module))
    names = [service.export_module(module).filename for module in modules]
    assert len(set(names)) == len(modules), names
    assert names[0].startswith("caseflow_module_") and names[2].startswith("caseflow_orders_")
    assert names == [service.export_module(module).filename for module in modules], "stable"
