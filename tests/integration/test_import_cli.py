"""`python -m core import-openapi | import-cases | export | export-module | run-case` as a user runs them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD
from tests.support.cases import all_scenes, offline_case
from tests.support.cli import ok, refused
from tests.support.echo_api import serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHOP = FIXTURES / "openapi" / "harbor-shop.yaml"
RAIL = FIXTURES / "openapi" / "lumen-rail.json"
CASES = FIXTURES / "test_cases" / "manual_cases.csv"
AS_ADMIN = ("--user", "admin")
"""Commands that write name who acts: the command line assumes no one."""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_import_export_and_run_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    ok("setup", db_url=db_url, CASEFLOW_ADMIN_PASSWORD=TEST_PASSWORD)
    assert ok("import-openapi", str(SHOP), "--dry-run", *AS_ADMIN, db_url=db_url)["dry_run"]
    assert len(ok("import-openapi", str(SHOP), *AS_ADMIN, db_url=db_url)["added"]) == 6
    again = ok("import-openapi", str(SHOP), *AS_ADMIN, db_url=db_url)
    assert (again["added"], again["changed"], again["removed"], again["unchanged"]) == ([], [], [], 6)
    assert ok("import-openapi", str(RAIL), "--module", "Rail", *AS_ADMIN, db_url=db_url)["added"][0] == "searchTrips"

    broken = tmp_path / "broken.yaml"
    broken.write_text(SHOP.read_text().replace("#/components/schemas/GeoPoint", "#/components/schemas/Geo"))
    assert refused("import-openapi", str(broken), *AS_ADMIN, db_url=db_url)["message"] == \
        "The reference '#/components/schemas/Geo' points to nothing in the document."
    assert "Cannot read" in refused("import-openapi", str(tmp_path / "missing.json"), *AS_ADMIN,
                                    db_url=db_url)["message"]

    preview = ok("import-cases", str(CASES), "--dry-run", *AS_ADMIN, db_url=db_url)
    assert preview["valid"] and len(preview["rows"]) == 4
    assert ok("import-cases", str(CASES), *AS_ADMIN, db_url=db_url)["created"] == 4

    case_id = offline_case("createBooking")
    exported = ok("export", f"UC{case_id}", "--format", "pytest", "--output", str(tmp_path), db_url=db_url)
    assert Path(exported["file"]).name.startswith(f"test_uc{case_id}_") and exported["bytes"] > 1000
    as_json = ok("export", str(case_id), "--format", "json", "--output", str(tmp_path / "case.json"), db_url=db_url)
    assert json.loads(Path(as_json["file"]).read_text())["case"]["code"] == f"UC{case_id}"
    bundle = ok("export-module", "Bookings", "--output", str(tmp_path / "bookings.zip"), db_url=db_url)
    assert len(zipfile.ZipFile(bundle["file"]).namelist()) == 3
    assert "not an automation case id" in refused("export", "case-1", "--format", "json", db_url=db_url)["message"]

    scenes = all_scenes()
    with serve(scenes) as api:
        run = ok("run-case", f"UC{case_id}", "--base-url", api.base_url, *AS_ADMIN, db_url=db_url,
                 CASEFLOW_API_TOKEN="cli-token")
        assert {request["headers"]["Authorization"] for request in api.received} == {"Bearer cli-token"}
    assert run["status"] == "passed" and run["passed"] == run["total"]
    assert "must start with http" in refused("run-case", str(case_id), "--base-url", "localhost:80",
                                             *AS_ADMIN, db_url=db_url)["message"]
