"""End to end: import an API, generate and approve a case, export it, run it against a real server."""

from __future__ import annotations

import ast
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from core import service
from core.errors import InvalidInput, NotFound
from tests.support.cases import all_scenes, approved_case
from tests.support.echo_api import serve
from tests.support.exports import embedded_case, run_pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openapi"
SHOP = FIXTURES / "harbor-shop.yaml"
TOKEN = "e2e-secret-token-5d41"
STANDALONE_IMPORTS = {"httpx", "pytest"}
"""What an exported file may import besides the standard library."""


def scenes() -> list[dict[str, Any]]:
    return all_scenes()


def test_import_generate_approve_export_and_run_everywhere(users, worker, tmp_path: Path) -> None:
    service.import_openapi(SHOP.read_bytes(), SHOP.name, user=users["engineer"])
    case = approved_case(users, "createOrder", "返回201，下单成功；数量超出范围时返回400")
    rows = case["rows"]
    assert {row["kind"] for row in rows} == {"valid", "boundary", "invalid"}
    assert case["reviewed_by"] == users["engineer2"] and case["task"]["status"] == "completed"

    exported = service.export_case(case["id"], "pytest")
    assert exported.filename == f"test_uc{case['id']}_createorder_from_the_library.py"
    test_file = tmp_path / exported.filename
    test_file.write_bytes(exported.content)
    source = exported.content.decode()
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - sys.stdlib_module_names <= STANDALONE_IMPORTS, "the exported file needs only pytest and httpx"
    document = json.loads(service.export_case(case["id"], "json").content)
    assert document["case"]["rows"] == rows and document["request"]["path"] == "/orders"
    assert {**embedded_case(source), "exported_at": None} == {**document, "exported_at": None}

    with serve(scenes()) as api:
        result = run_pytest(test_file, BASE_URL=api.base_url, CASEFLOW_API_TOKEN=TOKEN)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{len(rows)} passed" in result.stdout
        assert {request["headers"].get("Authorization") for request in api.received} == {f"Bearer {TOKEN}"}
        assert {request["path"] for request in api.received} == {"/orders"}

        run = service.run_case(case["id"], api.base_url, user=users["engineer"])
    assert TOKEN not in source
    assert run["status"] == "passed" and run["passed"] == run["total"] == len(rows), run["rows"]
    for row, outcome in zip(rows, run["rows"], strict=True):
        assert outcome["name"] == row["name"] and outcome["passed"] and outcome["failures"] == []
        assert outcome["status_code"] == row["expected_status"] and outcome["duration_ms"] >= 0
        assert (400 <= outcome["status_code"] < 500) == (row["kind"] == "invalid")
        assert outcome["response_excerpt"].startswith("{")

    with serve(scenes(), fail_with=500) as broken:
        failed = service.run_case(case["id"], broken.base_url, user=users["engineer"])
        result = run_pytest(test_file, BASE_URL=broken.base_url)
    assert failed["status"] == "failed" and failed["failed"] == len(rows) and failed["passed"] == 0
    for row, outcome in zip(rows, failed["rows"], strict=True):
        assert outcome["status_code"] == 500
        assert outcome["failures"][0] == f"status: expected {row['expected_status']}, got 500"
    assert result.returncode == 1 and f"{len(rows)} failed" in result.stdout
    assert "status: expected 201, got 500" in result.stdout

    history = service.get_automation_case(case["id"])["runs"]
    assert [item["status"] for item in history] == ["failed", "passed"]
    assert service.list_automation_cases(search=f"uc{case['id']}")["items"][0]["last_run"]["status"] == "failed"


def test_a_module_exports_as_a_zip_and_bad_requests_are_refused(users, worker, tmp_path: Path) -> None:
    service.import_openapi(SHOP.read_bytes(), SHOP.name, user=users["engineer"])
    case = approved_case(users, "cancelOrder", "A known reason returns 200; an unknown reason is rejected with 422")
    bundle = service.export_module("Orders")
    assert re.fullmatch(r"caseflow_orders_[0-9a-f]{8}\.zip", bundle.filename), bundle.filename
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = set(archive.namelist())
        stem = f"uc{case['id']}_cancelorder_from_the_library"
        assert names == {"README.txt", f"test_{stem}.py", f"{stem}.json"}
        test_source = archive.read(f"test_{stem}.py").decode()
    request = embedded_case(test_source)["request"]
    assert request["path"] == "/orders/{{orderId}}/cancellation", "the order the path names is made first"
    assert [(step["method"], step["path"], list(step["captures"])) for step in request["setup"]] == [
        ("POST", "/orders", ["orderId"])]
    archive_dir = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(bundle.content)).extractall(archive_dir)
    with serve(scenes()) as api:
        result = run_pytest(archive_dir / f"test_{stem}.py", BASE_URL=api.base_url)
    assert result.returncode == 0, result.stdout
    assert "Set BASE_URL" in run_pytest(archive_dir / f"test_{stem}.py").stdout

    with pytest.raises(InvalidInput, match="Unknown export format"):
        service.export_case(case["id"], "xml")
    with pytest.raises(NotFound, match="UC999"):
        service.export_case(999, "json")
    with pytest.raises(NotFound, match="No automation cases in module 'Nowhere'"):
        service.export_module("Nowhere")
