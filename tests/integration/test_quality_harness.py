"""The quality harness's core loop against a real local server with rules its schema does not state.

``bench.quality.harness.measure`` imports the server's document, generates and approves a case per
operation and runs each twice; ``bench.quality.analysis.analyse`` counts. Every figure is checked
against what the server itself recorded answering (tests/support/strict_api.py), so the harness
counts right whatever the generator sends.
"""

from __future__ import annotations

import signal
import sys
from collections import Counter
from typing import Any

import pytest

from bench.quality.analysis import analyse
from bench.quality.harness import measure
from bench.quality.installs import Install
from bench.quality.report import section
from bench.quality.run import measure_server
from bench.quality.servers import SERVERS, Process, Server, Target
from core.library.response_checks import judge, row_checks
from tests.support import strict_api

TOKEN = "strict-token-5e6f"
SETTINGS = ("DATABASE_URL", "AI_PROVIDER", "AI_LATENCY_SECONDS", "POLL_SECONDS", "RUN_SCHEDULER", "OPENAI_API_KEY",
            "OPENAI_BASE_URL", "OPENAI_MODEL")
CAUSE_OF_RULE = {"duplicate": "duplicate/uniqueness (409)", "lowercase": "pattern/case",
                 "no_project": "path parameter: no such resource (404)",
                 "no_fallback": "body references a missing resource (404)", "auth": "auth (401/403)"}


@pytest.fixture
def settings_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness points CaseFlow at its own database: give every setting it touches back afterwards."""
    for name in SETTINGS:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)


def sent_rows(measured: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows in the order run_case sent them: run by run, case by case, row by row."""
    return [{**row, "run": run, "scene": case["scene"]["id"]} for run in range(measured["runs"])
            for case in measured["cases"] for row in case["rows"]]


def row_requests(received: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """What the server recorded for each row's own request, None where the row's setup was refused (then the
    row was not sent): a settings row, and a task row, first create their project (POST /projects) and delete
    it after."""
    found: list[dict[str, Any] | None] = []
    queue = iter(received)
    for row in rows:
        if row["scene"] not in ("putProjectSettings", "createTask"):
            found.append(next(queue))
            continue
        setup = next(queue)
        assert (setup["method"], setup["path"]) == ("POST", "/projects")
        if not 200 <= setup["status"] < 300:
            found.append(None)
            continue
        found.append(next(queue))
        assert next(queue)["method"] == "DELETE"
    assert next(queue, None) is None, "nothing else was sent"
    return found


def answered_as_expected(row: dict[str, Any]) -> bool:
    """Whether the server's recorded answer passes the row as run_case judges it: another status of the same
    class (201 for 200) is spec drift, not a failure, so a row expecting 200 that got 201 on one run and 409
    on the next disagrees."""
    return not judge(row, row["status"], "")[0]


@pytest.mark.parametrize("provider", ["offline", "openai"])
def test_the_harness_counts_what_the_server_answered(settings_restored: None, provider: str) -> None:
    with strict_api.serve(token=TOKEN) as api:
        target = Target(name="strict", base_url=api.base_url, document=api.document, filename="strict.json",
                        token=TOKEN)
        measured = measure(target, provider)
    figures = analyse(measured)

    assert measured["operations"] == figures["cases"] == 5 and not measured["failed_tasks"]
    rows = sent_rows(measured)
    assert len(rows) == sum(figures["rows"].values()) * 2
    answered = [{**row, "status": request["status"] if request else 0, "rule": request["rule"] if request else None}
                for row, request in zip(rows, row_requests(api.received, rows), strict=True)]
    for run in (0, 1):
        mine = [row for row in answered if row["run"] == run]
        positive = [row for row in mine if row["kind"] in ("valid", "boundary")]
        invalid = [row for row in mine if row["kind"] == "invalid"]
        counted = figures["runs"][run]
        assert counted["positive_2xx"]["n"] == sum(200 <= row["status"] < 300 for row in positive)
        assert counted["positive_2xx"]["of"] == len(positive)
        assert counted["invalid_4xx"]["n"] == sum(400 <= row["status"] < 500 for row in invalid)
        assert counted["invalid_4xx"]["of"] == len(invalid)
        assert counted["5xx"]["n"] == sum(row["status"] >= 500 for row in mine)
        causes = {cause: entry["count"] for cause, entry in figures["causes"][str(run + 1)].items()}
        rules = Counter(CAUSE_OF_RULE.get(row["rule"], row["rule"]) for row in positive
                        if 400 <= row["status"] < 500)
        assert causes == dict(rules), (run, causes, rules)

    positive_rows = sum(1 for row in answered if row["run"] == 0 and row["kind"] != "invalid")
    assert figures["self_flagged"] is not None and figures["self_flagged"]["of"] == positive_rows
    assert figures["server_errors"]["count"] == sum(row["rule"] == "defect" for row in answered)
    assert set(figures["server_errors"]["by_operation"]) <= {"createNote"}
    accepted_invalid = Counter(row["keyword"] for row in answered if row["run"] == 0 and row["kind"] == "invalid"
                               and 200 <= row["status"] < 300)
    assert {keyword: entry["count"] for keyword, entry in figures["invalid_accepted"].items()} == accepted_invalid
    # the server answers 201 where the document says 200: reported as drift, not as a refusal
    notes = [row for row in answered if row["run"] == 0 and row["kind"] != "invalid" and row["rule"] == "ok"
             and row["status"] == 201 and row["expected_status"] == 200]
    assert notes and figures["drift"]["pairs"].get("200 -> 201") == len(notes)
    # the rules the schema does not state were met: some rows were refused, and the report says why
    assert any(figures["causes"][run] for run in ("1", "2"))
    # the expected results name no response field: each row's only check is its status
    assert all(len(row_checks(row)) == 1 for row in answered)
    same = sum(1 for first, second in zip(answered[:len(rows) // 2], answered[len(rows) // 2:], strict=True)
               if answered_as_expected(first) == answered_as_expected(second))
    assert figures["agreement"] == {"n": same, "of": len(rows) // 2, "pct": round(100 * same / (len(rows) // 2), 1)}

    report = section({"quick": False, "seconds": 1, "results": [{**figures, "facts": {"style": "strict"}}]})
    found = {cause for run in ("1", "2") for cause in figures["causes"][run]}
    assert "| strict | " in report and found and all(cause in report for cause in found), "each cause is reported"


def test_reviews_that_remove_contradicted_rows_teach_the_next_round(settings_restored: None) -> None:
    with strict_api.serve(token=TOKEN) as api:
        target = Target(name="strict", base_url=api.base_url, document=api.document, filename="strict.json",
                        token=TOKEN)
        measured = measure(target, "offline+sandbox", learning=True)
    figures = analyse(measured)
    first, second = figures["learning"]
    assert first["tasks"] == second["tasks"] == 5
    assert first["unedited"] < first["tasks"], "the sandbox contradicted some rows: the reviewer removed them"
    assert second["unedited"] > first["unedited"], figures["learning"]
    # the operations that need a project first (a path parameter, a body reference) have cases that pass
    assert figures["with_setup"]["positive_2xx"]["of"] > 0
    assert figures["with_setup"]["positive_2xx"]["n"] == figures["with_setup"]["positive_2xx"]["of"]
    coverage = figures["coverage"]
    assert 0 < coverage["covered"] <= coverage["cells"]
    report = section({"quick": False, "seconds": 1, "results": [{**figures, "facts": {"style": "strict"}}]})
    assert f"| {first['unedited']}/5 → {second['unedited']}/5 |" in report


def test_a_run_whose_server_died_is_no_measurement_and_keeps_the_log(settings_restored: None, tmp_path: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The server stands in a real child process that logs and exits; its API is the strict server."""

    def start(_install: Install, workdir: Any, _port: int) -> Any:
        process = Process([sys.executable, "-c", "print('fatal: worker lost'); raise SystemExit(3)"], workdir)
        with strict_api.serve() as api:
            yield Target(name="doomed", base_url=api.base_url, document=api.document, filename="strict.json",
                         process=process)
        process.stop()

    install = Install(name="doomed", root=tmp_path, bin=tmp_path, package="doomed", version="1", seconds=0.0,
                      reused=True, installed_at="2026-12-02T00:00:00Z")
    monkeypatch.setitem(SERVERS, "doomed", Server("doomed", "a process that exits", lambda: install, start))
    kept = tmp_path / "raw"

    previous = signal.getsignal(signal.SIGTERM)
    try:
        result = measure_server("doomed", "offline", 1, str(kept))
    finally:
        signal.signal(signal.SIGTERM, previous)  # measure_server's own, for a fresh interpreter

    assert "skipped" in result and "operations" not in result, "no figures from a dead server"
    assert "not a measurement" in result["skipped"] and "exited with 3" in result["skipped"]
    assert "fatal: worker lost" in result["skipped"]
    assert "fatal: worker lost" in (kept / "doomed-offline-server.log").read_text()
    assert (kept / "doomed-offline.json").exists(), "the rows sent are kept to see what the server got"
