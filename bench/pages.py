"""Page render times: the Tasks and Metrics pages, run through app.py by AppTest, on seeded databases.

A render is one full script run of the page as a signed-in engineer sees it (sidebar,
notifications, filters, the live table's first refresh; or every metrics query with an
empty cache), measured on the server. The queries behind each page are timed alone too,
so a slow page points at its query. `run(quick)` returns the figures; `python -m
bench.pages [--quick]` prints them as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, insert, literal, select

from bench.backends import BENCH_USER, open_backends, prepare, release
from bench.seed import seed
from bench.timing import sample, summarise
from core.database import database
from db.models import Review, User, WorkflowTask

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
FULL_SIZES = (1_000, 100_000)
QUICK_SIZES = (1_000, 5_000)
FULL_SAMPLES, QUICK_SAMPLES = 10, 3
APPROVED_PERCENT = 85  # of the seeded reviews; the rest are rejections


def run(quick: bool = False, backends: tuple[str, ...] | None = None) -> dict[str, Any]:
    """{sizes, samples, pages: {backend: {tasks: {page: ms summary}}}}; PostgreSQL is skipped when unavailable."""
    from testing.postgres import PostgresUnavailable

    sizes = QUICK_SIZES if quick else FULL_SIZES
    count = QUICK_SAMPLES if quick else FULL_SAMPLES
    wanted = backends or (("sqlite",) if quick else ("sqlite", "postgres"))
    results: dict[str, Any] = {"sizes": list(sizes), "samples": count, "pages": {}, "skipped": {}}
    os.environ["RUN_SCHEDULER"] = "false"  # pages only: no worker competes for the database
    for name in wanted:
        try:
            with open_backends([name]) as opened:
                backend = opened[0]
                for size in sizes:
                    url = backend.new_database(f"bench_pages_{size}")
                    prepare(url)
                    seed(size)
                    _add_reviews()
                    results["pages"].setdefault(backend.name, {})[str(size)] = _measure(count)
                    release()
        except PostgresUnavailable as error:
            results["skipped"][name] = str(error)
    return results


def _add_reviews() -> None:
    """One decision per reviewed task, as the approval metrics need (the task seeder writes none)."""
    t = WorkflowTask
    with database().engine.begin() as connection:
        reviewer = connection.scalar(select(User.id).where(User.username == BENCH_USER))
        rows = select(
            t.id, literal(1), literal(reviewer),
            case(((t.id * 7919) % 100 < APPROVED_PERCENT, "approved"), else_="rejected"),
            literal(""), func.coalesce(t.completed_at, t.updated_at, t.created_at),
        ).where(t.status == "completed", t.started_at.is_not(None))
        connection.execute(insert(Review.__table__).from_select(
            ["task_id", "round", "reviewer_id", "review_status", "feedback", "created_at"], rows))


def _measure(count: int) -> dict[str, Any]:
    import streamlit as st

    from core import service

    def page(path: str | None, **query: str) -> Callable[[int], Any]:
        def render(_: int) -> None:
            st.cache_data.clear()
            at = _app(**query)
            at.run()
            if path is not None:
                at.switch_page(path).run()
            if at.exception:
                raise RuntimeError(f"{path} raised: {[e.value for e in at.exception]}")
        return render

    def query(call: Callable[[], Any]) -> Callable[[int], Any]:
        return lambda _: call()

    window = service.TimeRange.last(30)
    figures = {
        "tasks page": page(None),
        "tasks page, filtered": page(None, status="reviewing", q="注册"),
        "tasks page, last page": page(None, page=str(max(service.list_tasks(limit=1)["total"] // 25, 1))),
        "metrics page, 7 days": page("dashboard/pages/metrics.py"),
        "metrics page, 90 days": page("dashboard/pages/metrics.py", range="90 days"),
        "query: list_tasks (first page)": query(lambda: service.list_tasks(limit=25)),
        "query: list_tasks (search)": query(lambda: service.list_tasks(limit=25, search="注册")),
        "query: task_counts": query(service.task_counts),
        "query: metrics overview, 30 days": query(lambda: service.metrics_overview(window.since, window.until)),
    }
    measured = {name: summarise(sample(call, count, warmup=1)) for name, call in figures.items()}
    overview = service.metrics_overview(window.since, window.until)
    measured["rows"] = {"tasks": service.list_tasks(limit=1)["total"],
                        "created_last_30_days": overview["summary"]["tasks"]}
    return measured


def _app(**query: str) -> Any:
    from streamlit.testing.v1 import AppTest

    from core import service

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["actor"] = service.current_actor(BENCH_USER)
    at.session_state["username"] = BENCH_USER
    at.session_state["last_event_id"] = service.latest_event_id()
    at.session_state["notifications"] = []
    for name, value in query.items():
        at.query_params[name] = value
    return at


def _print(results: dict[str, Any]) -> None:
    for backend, by_size in results["pages"].items():
        for size, figures in by_size.items():
            print(f"\n{backend}, {int(size):,} tasks (p50 / p95 ms)")
            for name, summary in figures.items():
                if name != "rows":
                    print(f"  {name:<36} {summary['p50']:>8.1f} {summary['p95']:>8.1f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    outcome = run(quick="--quick" in sys.argv[1:])
    _print(outcome)
    print(json.dumps(outcome, ensure_ascii=False, indent=2, default=str))
