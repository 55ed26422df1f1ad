"""The import and library pages through app.py: upload, preview, import, browse, launch, export, run."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core import service
from tests.apptest.conftest import (
    AUTOMATION_CASES,
    COVERAGE,
    IMPORTS,
    ROOT,
    SCENES,
    TEST_CASES,
    assert_no_exception,
    button,
    shown,
    text,
)
from tests.support.cases import all_scenes, offline_case
from tests.support.echo_api import serve

FIXTURES = ROOT / "tests" / "fixtures"
SHOP = FIXTURES / "openapi" / "harbor-shop.yaml"
CASES = FIXTURES / "test_cases" / "manual_cases.csv"


def select_row(at: AppTest, key: str, row: int = 0) -> AppTest:
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert_no_exception(at)
    return at


def form(at: AppTest, form_id: str) -> Any:
    return next(f for f in at.get("form") if f.proto.form.form_id == form_id)


def test_uploads_preview_then_import(dashboard, users: dict[str, str]) -> None:
    at = dashboard(users["engineer"], IMPORTS)
    at.file_uploader(key="openapi_upload").set_value((SHOP.name, SHOP.read_bytes(), "application/yaml")).run()
    assert_no_exception(at)
    assert [metric.value for metric in at.metric] == ["6", "0", "0", "0"]
    assert service.list_scenes() == [], "the preview writes nothing"
    button(at, "openapi_import").click().run()
    assert "Imported Harbor Shop API: 6 new" in text(at) and len(service.list_scenes()) == 6

    at.file_uploader(key="cases_upload").set_value((CASES.name, CASES.read_bytes(), "text/csv")).run()
    assert_no_exception(at)
    assert button(at, "cases_import").label == "Import 4 test case(s)"
    button(at, "cases_import").click().run()
    assert "Imported 4 test case(s)." in text(at) and service.list_test_cases()["total"] == 4

    broken = b"title,expected result,priority\nA,ok,P7\n"
    at.file_uploader(key="cases_upload").set_value(("bad.csv", broken, "text/csv")).run()
    assert "1 of 1 rows have errors" in text(at) and button(at, "cases_import").disabled

    viewer = dashboard(users["viewer"])
    with pytest.raises(ValueError):  # viewers browse the library, but the Import page does not exist for them
        viewer.switch_page(IMPORTS)


def test_library_pages_show_launch_export_and_run(dashboard, users: dict[str, str]) -> None:
    service.import_openapi(SHOP.read_bytes(), SHOP.name, user=users["engineer"])
    service.create_test_case({"title": "Place an order", "module": "Orders", "expected_result": "201",
                              "scene_id": "createOrder"}, user=users["engineer"])
    scenes = select_row(dashboard(users["viewer"], SCENES), "scenes_table", 1)
    assert shown(scenes.header[0].value) == "POST /categories"
    assert "children[]" in scenes.dataframe[1].value["field"].tolist()

    cases = select_row(dashboard(users["engineer"], TEST_CASES), "cases_table")
    assert cases.header[0].value.endswith("Place an order")
    button(cases, "launch").click().run()
    assert "queued" in text(cases)

    case_id = offline_case("createOrder", service.list_test_cases()["items"][0]["id"])
    autos = select_row(dashboard(users["engineer"], AUTOMATION_CASES), "auto_table")
    assert autos.header[0].value.startswith(f"UC{case_id}")
    assert "Never run yet" in text(autos)
    assert [item for item in autos.expander if item.label.startswith("Traceability")], "rows traced to the case"
    run = form(autos, "run_case")
    with serve(all_scenes()) as api:
        run.text_input[0].set_value(api.base_url)
        run.form_submit_button[0].click()
        autos.run()
    assert_no_exception(autos)
    assert "rows passed" in text(autos)
    assert service.get_automation_case(case_id)["runs"][0]["status"] == "passed"


def test_the_test_case_list_launches_what_the_detail_launches(dashboard, users: dict[str, str]) -> None:
    service.import_openapi(SHOP.read_bytes(), SHOP.name, user=users["engineer"])
    for title in ("Place an order", "Place a large order"):
        service.create_test_case({"title": title, "module": "Orders", "expected_result": "201",
                                  "scene_id": "createOrder"}, user=users["engineer"])
    service.create_test_case({"title": "No scene yet", "expected_result": "-"}, user=users["engineer"])
    at = dashboard(users["engineer"], TEST_CASES)
    at.session_state["cases_table"] = {"selection": {"rows": [0, 1, 2], "columns": [], "cells": []}}
    at.run()
    assert button(at, "cases_launch_selected").label == "Launch 2 tasks"
    assert "without a scene are skipped" in text(at) and not at.header, "several selected: no detail"
    button(at, "cases_launch_selected").click().run()
    assert_no_exception(at)
    launched = service.list_tasks(limit=10)["items"]
    assert sorted(item["name"] for item in launched) == ["Place a large order", "Place an order"]
    assert {item["scene_id"] for item in launched} == {"createOrder"}


def test_the_coverage_map_shows_each_operation_and_launches_its_gaps(dashboard, users: dict[str, str]) -> None:
    at = dashboard(users["engineer"], COVERAGE)
    assert "No scenes yet" in text(at), "an empty library says what to do first"
    service.import_openapi(SHOP.read_bytes(), SHOP.name, user=users["engineer"])
    at.run()
    assert_no_exception(at)
    module = at.selectbox(key="coverage_module").value
    found = service.coverage_map(module)
    [grid] = at.dataframe
    assert len(grid.value) == len(found["operations"]) >= 2, "a line per operation of the module"
    assert set(found["statuses"]) <= set(grid.value.columns) and "—" in set(grid.value.iloc[0])
    assert at.metric[1].value == f"0 / {found['cells']}"
    button(at, "coverage_launch").click().run()
    assert_no_exception(at)
    count = len(found["operations"])
    assert f"Started {count} tasks" in text(at) and f"{count} operations had no test case" in text(at)
    assert service.list_test_cases(module=module)["total"] == count

    viewer = dashboard(users["viewer"], COVERAGE)
    assert not [b for b in viewer.button if b.key == "coverage_launch"], "viewers read the map only"
