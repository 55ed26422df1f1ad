"""The import and library pages under Streamlit's AppTest: upload, preview, import, browse, launch, export, run."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import service
from tests.support.cases import all_scenes, offline_case
from tests.support.echo_api import serve

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SHOP = FIXTURES / "openapi" / "harbor-shop.yaml"
CASES = FIXTURES / "test_cases" / "manual_cases.csv"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def page(name: str, username: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=30)
    app.session_state["actor"] = service.current_actor(username)
    return app.run()


def select_row(app: AppTest, key: str, row: int = 0) -> AppTest:
    app.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return app.run()


def texts(app: AppTest) -> str:
    return "\n".join(str(item.value) for kind in ("success", "error", "warning", "info", "caption", "markdown")
                     for item in getattr(app, kind))


def test_uploads_preview_then_import(db_url: str, users: dict[str, str]) -> None:
    app = page("imports", users["engineer"])
    app.file_uploader(key="openapi_upload").set_value((SHOP.name, SHOP.read_bytes(), "application/yaml")).run()
    assert not app.exception and [metric.value for metric in app.metric] == ["6", "0", "0", "0"]
    assert service.list_scenes() == [], "the preview writes nothing"
    app.button(key="openapi_import").click().run()
    assert "Imported Harbor Shop API: 6 new" in texts(app) and len(service.list_scenes()) == 6

    app.file_uploader(key="cases_upload").set_value((CASES.name, CASES.read_bytes(), "text/csv")).run()
    assert not app.exception and app.button(key="cases_import").label == "Import 4 test case(s)"
    app.button(key="cases_import").click().run()
    assert "Imported 4 test case(s)." in texts(app) and service.list_test_cases()["total"] == 4

    broken = b"title,expected result,priority\nA,ok,P7\n"
    app.file_uploader(key="cases_upload").set_value(("bad.csv", broken, "text/csv")).run()
    assert "1 of 1 rows have errors" in texts(app) and app.button(key="cases_import").disabled
    assert "Viewers can browse" in texts(page("imports", users["viewer"]))


def test_library_pages_show_launch_export_and_run(db_url: str, users: dict[str, str]) -> None:

    service.import_openapi(SHOP.read_bytes(), SHOP.name, user=users["engineer"])
    service.create_test_case({"title": "Place an order", "module": "Orders", "expected_result": "201",
                              "scene_id": "createOrder"}, user=users["engineer"])
    scenes = select_row(page("library_scenes", users["viewer"]), "scenes_table", 1)
    assert not scenes.exception and scenes.header[0].value == "POST /categories"
    assert "children[]" in scenes.dataframe[1].value["field"].tolist()

    cases = select_row(page("library_test_cases", users["engineer"]), "cases_table")
    assert not cases.exception and cases.header[0].value.endswith("Place an order")
    cases.button(key="launch").click().run()
    assert "queued" in texts(cases)

    case_id = offline_case("createOrder")
    autos = select_row(page("library_cases", users["engineer"]), "auto_table")
    assert not autos.exception and autos.header[0].value.startswith(f"UC{case_id}")
    assert "Never run yet." in texts(autos)
    with serve(all_scenes()) as api:
        autos.text_input[1].set_value(api.base_url)
        autos.button[0].click().run()
    assert not autos.exception and "rows passed" in texts(autos)
    assert service.get_automation_case(case_id)["runs"][0]["status"] == "passed"
