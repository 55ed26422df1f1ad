"""A lookup's first listed item that does not suit the operation: the sandbox run takes the next one.

The server lists its jobs (none can be created through the API) and refuses a backfill of a job
without a schedule, naming it, as Airflow does for its first DAG.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from core.library import environments, sandbox
from core.library.case_requests import case_request
from core.records import DataRow, SetupStep
from tests.support.http_server import serving

JOBS = [{"job_id": "adhoc_report"}, {"job_id": "manual_cleanup"}, {"job_id": "nightly_export"},
        {"job_id": "weekly_digest"}]
SCHEDULED = {"nightly_export", "weekly_digest"}


def answer(method: str, path: str, _headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    if (method, path) == ("GET", "/jobs"):
        return 200, {"jobs": JOBS, "total_entries": len(JOBS)}
    if (method, path) == ("POST", "/backfills"):
        sent = json.loads(body or b"{}")
        if not isinstance(sent.get("from_date"), str):
            return 422, {"detail": [{"loc": ["body", "from_date"], "msg": "Field required"}]}
        if sent.get("job_id") not in SCHEDULED:
            return 422, {"detail": f"{sent.get('job_id')} has no schedule and does not support backfills"}
        return 200, {"id": 1, **sent}
    return 404, {"detail": "Not Found"}


FIND = SetupStep(name="find a job", method="GET", path="/jobs", query={}, body=None, media_type="application/json",
                 captures={"job_id": ["jobs.0.job_id", "0.job_id"]}, cleanup=None, scene_id=None)


def row(name: str, kind: str, body: dict[str, Any]) -> DataRow:
    return DataRow(name=name, kind=kind, keyword=None if kind == "valid" else "required",  # type: ignore[typeddict-item]
                   pointer="" if kind == "valid" else "/from_date", description="", source="offline",
                   expected_status=200 if kind == "valid" else 422, body=body)


def check(rows: list[DataRow], respond: Callable[[str, str, dict[str, str], bytes], tuple[int, Any]] = answer) -> Any:
    with serving(respond, "jobs") as url:
        target = environments.by_hand(url, None)
        return sandbox.check(target, case_request("POST", "/backfills", [], rows, setup=[FIND]), rows, None)


def test_the_next_listed_item_is_taken_when_the_server_refuses_the_first_by_name() -> None:
    rows = [row("full", "valid", {"job_id": "{{job_id}}", "from_date": "2026-01-01"}),
            row("minimal", "valid", {"job_id": "{{job_id}}", "from_date": "2026-02-01"}),
            row("no_date", "invalid", {"job_id": "{{job_id}}"})]
    run = check(rows)
    assert run["setup"][0]["captures"] == {"job_id": ["jobs.2.job_id", "2.job_id"]}, "the first scheduled job"
    assert all(verdict["agrees"] for verdict in run["verdicts"].values()), run["verdicts"]


def test_a_refusal_that_names_no_listed_item_keeps_the_first() -> None:
    rows = [row("no_date", "valid", {"job_id": "{{job_id}}"})]  # refused for its body, not for the job
    run = check(rows)
    assert run["setup"][0]["captures"] == FIND["captures"]
    assert run["verdicts"]["no_date"]["status"] == 422


def test_each_next_item_is_tried_with_one_row_until_one_suits() -> None:
    """A burst of every row per listed item made a real server (Airflow 3.3) crash: one row per item is enough
    to tell whether it suits, and the other rows are sent only for the item that does."""
    sent: list[str | None] = []

    def counting(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if (method, path) == ("POST", "/backfills"):
            sent.append(json.loads(body or b"{}").get("job_id"))
        return answer(method, path, headers, body)

    rows = [row(f"valid_{number}", "valid", {"job_id": "{{job_id}}", "from_date": f"2026-01-0{number}"})
            for number in range(1, 6)]
    run = check(rows, counting)
    assert sent == ["adhoc_report"] * 5 + ["manual_cleanup", "nightly_export"] + ["nightly_export"] * 4, \
        "the row that found a suitable item is not sent again (what it made may stand in the others' way)"
    assert all(verdict["agrees"] for verdict in run["verdicts"].values()), run["verdicts"]


def test_a_server_failure_among_the_refusals_does_not_keep_the_first_item() -> None:
    """Airflow 3.3 fails some backfills with a database error (500) whichever DAG they name; the others name
    the DAG they refuse, and the next DAGs are tried all the same."""
    def failing(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if (method, path) == ("POST", "/backfills") and json.loads(body or b"{}").get("run_backwards"):
            return 500, {"detail": {"reason": "Database error"}}
        return answer(method, path, headers, body)

    rows = [row("full", "valid", {"job_id": "{{job_id}}", "from_date": "2026-01-01"}),
            row("backwards", "valid", {"job_id": "{{job_id}}", "from_date": "2026-01-01", "run_backwards": True}),
            row("minimal", "valid", {"job_id": "{{job_id}}", "from_date": "2026-02-01"})]
    run = check(rows, failing)
    assert run["setup"][0]["captures"] == {"job_id": ["jobs.2.job_id", "2.job_id"]}
    assert run["verdicts"]["full"]["agrees"] and run["verdicts"]["minimal"]["agrees"]
    assert run["verdicts"]["backwards"]["status"] == 500
