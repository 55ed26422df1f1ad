"""The Import page names what a new version breaks and offers to regenerate it; a case's page flags weak checks."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import service
from tests.apptest.conftest import AUTOMATION_CASES, IMPORTS, assert_no_exception, button, text
from tests.support.cases import all_scenes, offline_case
from tests.support.documents import RAIL, rail_version_two
from tests.support.echo_api import serve


@pytest.fixture
def trips_case(users: dict[str, str]) -> int:
    service.import_openapi(RAIL.read_bytes(), RAIL.name, user=users["engineer"])
    test_case = service.create_test_case({"title": "Search trips", "expected_result": "200 with trips",
                                          "scene_id": "searchTrips"}, user=users["engineer"])
    return offline_case("searchTrips", test_case_id=test_case["id"])


def test_the_import_page_shows_the_impact_asks_to_confirm_and_regenerates(dashboard, users: dict[str, str],
                                                                         trips_case: int) -> None:
    at = dashboard(users["engineer"], IMPORTS)
    upload = at.file_uploader(key="openapi_upload")
    upload.set_value(("lumen-rail-v2.json", rail_version_two(), "application/json")).run()
    assert_no_exception(at)
    assert "breaks 1 automation case(s)" in text(at)
    impact = at.dataframe[0].value
    assert set(impact["case"]) == {f"UC{trips_case}"} and impact["why"].str.contains("It expects 200").all()
    assert button(at, "openapi_import").disabled, "not before the reader confirms"
    at.checkbox(key="openapi_confirm").check().run()
    button(at, "openapi_import").click().run()
    assert_no_exception(at)
    assert "Imported Lumen Rail Booking API" in text(at)
    assert button(at, "openapi_regenerate").label == "Regenerate 1 affected case(s)"
    button(at, "openapi_regenerate").click().run()
    assert_no_exception(at)
    assert "Started 1 task(s)" in text(at) and service.task_counts().get("pending") == 1


def select_first_case(at: AppTest) -> AppTest:
    at.session_state["auto_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert_no_exception(at)
    return at


def test_a_case_page_flags_weak_assertions_after_a_run(dashboard, users: dict[str, str], trips_case: int) -> None:
    at = select_first_case(dashboard(users["engineer"], AUTOMATION_CASES))
    assert "Assertion strength: run the case" in text(at)
    with serve(all_scenes()) as api:
        service.run_case(trips_case, api.base_url, user=users["engineer"])
    at.run()
    assert_no_exception(at)
    assert "Weak assertions (run " in text(at), "its rows check only the status"
