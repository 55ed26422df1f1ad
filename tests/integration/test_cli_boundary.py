"""The command line as the operator's trust boundary: writes name their user; a bad database is a clear answer."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD
from tests.support.cli import cli, ok, refused

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_writes_need_a_user_and_reads_do_not(db_url: str) -> None:
    ok("setup", db_url=db_url, CASEFLOW_ADMIN_PASSWORD=TEST_PASSWORD)
    for command in (["start", "--test-case", "1", "--scene", "SC001"], ["cancel", "1"], ["retry", "1"],
                    ["review", "workflow_1_x", "--status", "approved"], ["import-cases", "x.csv"],
                    ["import-openapi", "x.json"], ["run-case", "UC1", "--base-url", "http://127.0.0.1:9"]):
        answer = refused(*command, db_url=db_url, CASEFLOW_USER="")
        assert answer["error"] == "invalid_input" and "pass --user NAME (or set CASEFLOW_USER)" in answer["message"]
    assert ok("tasks", db_url=db_url)["total"] == 0, "reads need no user, and nothing was written"
    assert ok("start", "--test-case", "1", "--scene", "SC001", db_url=db_url, CASEFLOW_USER="admin")["task_id"] == 1
    assert "No active user called 'nobody'" in refused("cancel", "1", "--user", "nobody", db_url=db_url)["message"]


def test_bad_values_are_refused_with_json(db_url: str) -> None:
    ok("setup", db_url=db_url, CASEFLOW_ADMIN_PASSWORD=TEST_PASSWORD)
    assert "from 1 to 9223372036854775807" in refused("task", "9" * 30, db_url=db_url)["message"]
    assert "at most 200" in refused("tasks", "--search", "x" * 100_000, db_url=db_url)["message"]
    assert "offset must be from 0" in refused("tasks", "--offset", "-1", db_url=db_url)["message"]
    concurrency = refused("worker", "--concurrency", "1000", db_url=db_url)["message"]
    assert "less than or equal to 64" in concurrency and "WORKER_CONCURRENCY" in concurrency
    timeout = refused("run-case", "UC1", "--base-url", "http://127.0.0.1:9", "--timeout", "-1", "--user", "admin",
                      db_url=db_url)["message"]
    assert timeout.startswith("The timeout must be more than 0")
    assert "without regard to case" in refused("create-user", "--username", "ADMIN", "--role", "viewer",
                                               "--password", "amber-lantern-quay", db_url=db_url)["message"]


@pytest.mark.parametrize(("url", "message"), [
    ("notaurl://", "names a database CaseFlow has no driver for"),
    ("definitely not a url", "DATABASE_URL is not a database URL"),
    ("postgresql+psycopg2://caseflow:pw-SECRET-1@127.0.0.1:1/caseflow", "Cannot reach the database at "
     "postgresql\\+psycopg2://caseflow:\\*\\*\\*@127.0.0.1:1/caseflow"),
])
def test_a_database_that_cannot_be_used_is_a_clear_error(db_url: str, url: str, message: str) -> None:
    for command in (["tasks"], ["worker"], ["create-user", "--username", "eve", "--role", "viewer"]):
        result = cli(*command, db_url=url)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert '"error": "database_unavailable"' in result.stderr and "SECRET" not in result.stderr
        assert re.search(message, result.stderr), result.stderr


def test_a_missing_or_unmigrated_sqlite_file_says_to_run_setup(db_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "caseflow.db"
    answer = refused("tasks", db_url=f"sqlite:///{missing}")
    assert answer["message"].startswith("There is no database file at") and "python -m core setup" in answer["message"]
    assert not missing.parent.exists(), "the check writes nothing"
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    answer = refused("tasks", db_url=f"sqlite:///{empty}")
    assert "does not have CaseFlow's current schema (revision none" in answer["message"]
    assert ok("setup", db_url=f"sqlite:///{empty}", CASEFLOW_ADMIN_PASSWORD=TEST_PASSWORD)["database"] == "upgraded"
    assert ok("tasks", db_url=f"sqlite:///{empty}")["total"] == 0
