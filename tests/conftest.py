"""Fixtures: a fresh database per test on SQLite and on a throwaway PostgreSQL, users, demo data, workers."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from testing.postgres import Cluster, PostgresUnavailable, start_cluster
from testing.redis_server import RedisServer, RedisUnavailable, start_redis

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_PASSWORD = "correct-horse-battery"


def unavailable(reason: str) -> None:
    """Skip with a reason on a developer's machine; in CI a missing part is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: these tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        cluster = start_cluster()
    except PostgresUnavailable as error:
        unavailable(f"PostgreSQL server binaries are not installed: {error}")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = start_redis()
    except RedisUnavailable as error:
        unavailable(f"Redis is not installed: {error}")
    yield server
    server.stop()


def configure(monkeypatch: pytest.MonkeyPatch, url: str, **settings: str) -> None:
    """Points the process at ``url`` with fast test settings, dropping cached engines and savers."""
    from testing.process import release

    monkeypatch.setenv("DATABASE_URL", url)
    for inherited in ("OPENAI_API_KEY", "CASEFLOW_SECRET_KEY", "WEBHOOK_ALLOW_PRIVATE", "WEBHOOK_ALLOWED_HOSTS"):
        monkeypatch.delenv(inherited, raising=False)
    for name, value in {"POLL_SECONDS": "0.2", "LEASE_SECONDS": "30", "METRICS_PORT": "0", **settings}.items():
        monkeypatch.setenv(name, value)
    release()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, empty database; every test using it runs once per backend."""
    from core import service
    from testing.process import release

    cluster: Cluster | None = None
    name = f"t_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'caseflow.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(name)
    configure(monkeypatch, url, CASEFLOW_SECRET_KEY_FILE=str(tmp_path / "caseflow-secret.key"))
    service.upgrade_database()
    yield url
    service.stop_embedded_worker()
    release()
    if cluster is not None:
        cluster.drop_database(name)


@pytest.fixture
def users(db_url: str) -> dict[str, str]:
    """An admin, an engineer, a second engineer and a viewer; role -> username."""
    from core import service

    names = {"admin": "admin", "engineer": "alice", "engineer2": "bob", "viewer": "victor"}
    for role, username in names.items():
        service.create_user(username, role.rstrip("2"), TEST_PASSWORD)
    return names


@pytest.fixture
def demo(users: dict[str, str]) -> dict[str, Any]:
    """The demo scenes and test cases."""
    from core import service

    return service.load_demo_data()


@pytest.fixture
def worker(db_url: str) -> Iterator[Any]:
    """A running in-process worker."""
    from core.tasks.worker import in_process_worker, stop_in_process_worker

    yield in_process_worker()
    stop_in_process_worker()


def wait_for(task_id: int, *statuses: str, timeout: float = 30.0) -> dict[str, Any]:
    """Polls the task until its status is one of ``statuses``; fails with its last state otherwise."""
    from core import service

    deadline = time.monotonic() + timeout
    while True:
        task = service.get_task(task_id)
        if task["status"] in statuses:
            return task
        if time.monotonic() > deadline:
            pytest.fail(f"task {task_id} did not reach {statuses} in {timeout}s: {task['status']} "
                        f"at {task['current_step']} ({task['error_message']})")
        time.sleep(0.05)


@pytest.fixture
def wait() -> Callable[..., dict[str, Any]]:
    return wait_for
