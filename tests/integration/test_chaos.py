"""The chaos run in its short form: kills, PostgreSQL restarts and a flaky AI, and nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import service
from testing import chaos
from testing.postgres import Cluster, PostgresUnavailable, start_cluster
from testing.process import release
from tests.conftest import configure, unavailable
from tests.support.cases import first_case_and_scene


@pytest.fixture
def own_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Cluster, str]]:
    """A PostgreSQL cluster of this test's own, since the run restarts it."""
    try:
        cluster = start_cluster()
    except PostgresUnavailable as error:
        unavailable(f"PostgreSQL server binaries are not installed: {error}")
    url = cluster.create_database("chaos")
    configure(monkeypatch, url)
    service.upgrade_database()
    yield cluster, url
    release()
    cluster.stop()


def test_kills_restarts_and_a_flaky_ai_lose_nothing(own_cluster: tuple[Cluster, str]) -> None:
    cluster, url = own_cluster
    service.create_user("chaos", "engineer", "storm-ledger-pivot")
    service.load_demo_data()
    case = first_case_and_scene()
    report = chaos.run(chaos.Plan(tasks=16, kills=3, restarts=("fast", "immediate")), cluster, url, "chaos", [case])
    assert report.kills == 3 and report.restarts == 2, "every planned fault struck"
    assert report.clean, report
    assert report.review_conflicts == 0
