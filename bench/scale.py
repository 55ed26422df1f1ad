"""A million tasks (issue 11 / 5): the product's figures on a table of that size, against their targets.

On each backend: a few real tasks run through the worker on a fresh database (what a completed task
stores, checkpoints included, and the rows the seeded tasks copy); then a large database is seeded
with tasks as the product stores them now (small rows, one checkpoint per finished task) and their
events, and the start, list, count and Metrics calls are timed on it; last, a cleanup removes the
oldest tasks while a thread claims pending ones.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import (
    Connection,
    LargeBinary,
    MetaData,
    Table,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
)

from bench import list_latency, start_latency
from bench.backends import OTHER_USERS, Backend, configure, demo_cases, prepare, release
from bench.seed import HISTORY_DAYS, seed
from bench.throughput import through_worker
from bench.timing import sample, summarise
from core import service
from core.database import database, session_scope
from core.tasks import lifecycle
from core.tasks.cleanup import POSTGRES_CHECKPOINT_TABLES, SQLITE_CHECKPOINT_TABLES, cleanup
from db.models import TaskStatus, WorkflowTask

TARGETS = {"start_p99_ms": 10, "list_p95_ms": 50, "metrics_ms": 300, "bytes_per_task": 30 * 1024,
           "cleanup_rows_per_second": 20_000, "claim_wait_ms": 100}
REAL_TASKS = 20  # run through the worker: the storage figure and the seeded rows' JSON
CLEANUP_DAYS = 2  # the oldest days of the seeded history the cleanup removes
CLAIM_PAUSE_SECONDS = 0.02
PRODUCT_TABLE = "automation_cases"
SCALE_OWN_TABLES = ("workflow_tasks", "task_events", "reviews", PRODUCT_TABLE)
"""CaseFlow's tables holding a task's rows (the automation case is the product and outlives the task's
retention: counted apart); the rest of a task's bytes are the saver's checkpoints."""
TEMPLATE_THREAD = "bench-checkpoint-template"
TERMINAL = [s.value for s in TaskStatus.terminal()]


def queries() -> dict[str, dict[str, Any]]:
    """The list_tasks calls timed: the Tasks page's first page, each filter, and searches through the index."""
    page = list_latency.PAGE
    with session_scope(read_only=True) as session:  # an old task's: its search cannot stop at the newest page
        thread_id = session.scalar(select(WorkflowTask.thread_id).order_by(WorkflowTask.id).offset(100).limit(1))
    return {
        "first page": {"limit": page},
        **{f"status = {status.value}": {"status": status.value, "limit": page} for status in TaskStatus},
        f"owner = {OTHER_USERS[0]}": list_latency.OWNER_PAGE,
        "search '用户注册' (trigram index)": {"search": "用户注册", "limit": page},
        "search 'workflow_3_' (trigram index)": {"search": "workflow_3_", "limit": page},
        "search one thread id (trigram index)": {"search": thread_id[-12:], "limit": page},
        f"search '{list_latency.SEARCH}' (2 characters: LIKE on the rows)": {"search": list_latency.SEARCH,
                                                                            "limit": page},
    }


def run(backend: Backend, tasks: int, calls: int, warmup: int) -> dict[str, Any]:
    """Every figure of the section on ``backend`` with ``tasks`` seeded tasks."""
    storage, payloads, checkpoint = _real_tasks(backend)
    prepare(backend.new_database("bench_scale"))
    began = time.monotonic()
    seeded: dict[str, Any] = seed(tasks, payloads)
    seeded["checkpoints"] = _seed_checkpoints(checkpoint)
    seeded["seconds"] = time.monotonic() - began
    seeded["database_bytes"] = _database_bytes()
    window = service.TimeRange.last(90)
    results = {
        "seed": seeded,
        "storage": storage,
        "list": list_latency.measure(calls, calls, warmup, queries()),
        "task_counts": summarise(sample(lambda _: service.task_counts(), calls, warmup)),
        "metrics_90_days": summarise(sample(lambda _: service.metrics_overview(window.since, window.until),
                                            max(calls // 5, 3), 1)),
        "start": start_latency.measure(calls * 4, warmup),
        "cleanup": _cleanup_while_claiming(),
    }
    release()
    return results


def _real_tasks(backend: Backend) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """REAL_TASKS tasks through a real Worker on a fresh database: what each stores, its JSON, one's checkpoint."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: maximum number of running instances"
    prepare(backend.new_database("bench_scale_storage"))
    configure(database().url.render_as_string(hide_password=False), POLL_SECONDS="0.05", LEASE_SECONDS="60",
              WORKER_CONCURRENCY="2")
    before = _database_bytes()
    outcome = through_worker(demo_cases(), REAL_TASKS, 0.05, 60 + REAL_TASKS * 5)
    grown = _database_bytes() - before
    with session_scope(read_only=True) as session:
        rows = session.execute(select(WorkflowTask.id, WorkflowTask.test_case_id, WorkflowTask.input_params,
                                      WorkflowTask.interrupt_data, WorkflowTask.result_data, WorkflowTask.thread_id)
                               .where(WorkflowTask.status == TaskStatus.COMPLETED.value)).all()
        payloads = [{"test_case_id": r.test_case_id, "input_params": r.input_params,
                     "interrupt_data": r.interrupt_data, "result_data": r.result_data} for r in rows]
        connection = session.connection()
        checkpoint = {name: [dict(row._mapping) for row in session.execute(
            select(_table(connection, name)).where(text("thread_id = :t")), {"t": rows[0].thread_id})]
            for name in _checkpoint_tables()}
        by_table = _row_bytes(connection, [r.id for r in rows], [r.thread_id for r in rows])
    completed = len(rows) or 1
    per_table = {name: size / completed for name, size in by_table.items()}
    storage = {"completed_tasks": len(rows), "not_completed": outcome["not_completed"],
               "row_bytes_per_task": per_table,
               "bytes_per_completed_task": sum(v for name, v in per_table.items() if name != PRODUCT_TABLE),
               "database_growth_per_task": grown / completed,
               "checkpoint_rows_per_task": {name: len(found) for name, found in checkpoint.items()}}
    release()
    return storage, payloads, checkpoint


def _row_bytes(connection: Connection, task_ids: list[int], thread_ids: list[str]) -> dict[str, int]:
    """Bytes of the rows the tasks left in each table (PostgreSQL: as stored, compressed; SQLite: the values)."""
    owned = {**{name: ("id" if name == "workflow_tasks" else "task_id", task_ids) for name in SCALE_OWN_TABLES},
             **{name: ("thread_id", thread_ids) for name in _checkpoint_tables()}}
    sizes = {}
    for name, (key, values) in owned.items():
        saved = _table(connection, name)
        if connection.dialect.name == "sqlite":
            size = sum(func.coalesce(func.length(cast(column, LargeBinary)), 0) for column in saved.columns)
        else:
            size = func.pg_column_size(literal_column(name))
        sizes[name] = int(connection.scalar(select(func.coalesce(func.sum(size), 0)).select_from(saved)
                                            .where(saved.c[key].in_(values))) or 0)
    return sizes


def _seed_checkpoints(template: dict[str, list[dict[str, Any]]]) -> int:
    """The template thread's checkpoint rows copied to every finished seeded task: one INSERT ... SELECT per table."""
    tasks = WorkflowTask.__table__
    with database().engine.begin() as connection:
        for name, rows in template.items():
            saved = _table(connection, name)
            if not rows:
                continue
            connection.execute(insert(saved), [{**row, "thread_id": TEMPLATE_THREAD} for row in rows])
            columns = [c.name for c in saved.columns]
            copied = (select(*(tasks.c.thread_id if c == "thread_id" else saved.c[c] for c in columns))
                      .select_from(tasks).join(saved, saved.c.thread_id == literal(TEMPLATE_THREAD))
                      .where(tasks.c.status.in_(TERMINAL)))
            connection.execute(insert(saved).from_select(columns, copied))
            connection.execute(delete(saved).where(saved.c.thread_id == TEMPLATE_THREAD))
            if connection.dialect.name == "postgresql":  # as autovacuum would: without, cleanup scans every row
                connection.exec_driver_sql(f"ANALYZE {name}")
        return connection.scalar(select(func.count()).select_from(_table(connection, "checkpoints"))) or 0


def _cleanup_while_claiming() -> dict[str, Any]:
    """The cleanup of the oldest CLEANUP_DAYS days while another thread claims pending tasks one at a time."""
    waits: list[float] = []
    stop = threading.Event()

    def claim(_: int) -> None:
        lifecycle.claim("bench-claimer", 1, 60)

    def claims() -> None:
        while not stop.is_set():
            waits.extend(sample(claim, 1, 0, CLAIM_PAUSE_SECONDS))

    claimer = threading.Thread(target=claims, name="bench-claims", daemon=True)
    claimer.start()
    began = time.perf_counter()
    try:
        report = cleanup(HISTORY_DAYS - CLEANUP_DAYS)
    finally:
        seconds = time.perf_counter() - began
        stop.set()
        claimer.join()
    rows = report["tasks"] + report["events"] + report["reviews"] + report["checkpoint_threads"]
    return {**report, "seconds": seconds, "rows": rows, "rows_per_second": rows / seconds,
            "tasks_per_second": report["tasks"] / seconds, "claims": summarise(waits)}


def _checkpoint_tables() -> tuple[str, ...]:
    return SQLITE_CHECKPOINT_TABLES if database().is_sqlite else POSTGRES_CHECKPOINT_TABLES


def _table(connection: Connection, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=connection)


def _database_bytes() -> int:
    """The bytes in the database's used pages (SQLite: its pages as read, WAL included, less the free ones)."""
    db = database()
    with db.engine.connect() as connection:
        if db.is_sqlite:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar() or 0
            free = connection.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
            size = connection.exec_driver_sql("PRAGMA page_size").scalar() or 0
            return int((pages - free) * size)
        return int(connection.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() or 0)
