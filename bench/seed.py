"""Bulk data for the latency benchmarks: tasks in a realistic mix of statuses and owners, with their events."""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from sqlalchemy import JSON, Column, Connection, Integer, MetaData, String, Table, Text, case, func, insert, select

from core.config import get_settings
from core.database import database, session_scope
from core.tasks.lifecycle import queue_rank
from core.tasks.runner import workflow_context
from core.workflow.checkpointer import close_savers
from core.workflow.graph import build_graph, thread_config
from core.workflow.state import CreatedCase, Decision, WorkflowState
from core.workflow.steps import AWAITING_REVIEW, CASE_CREATED, STEP_BY_NODE, STEPS
from db.models import TaskEvent, TestCase, User, WorkflowTask
from db.session import Database
from db.types import isoformat, utcnow

STATUS_WEIGHTS = {"completed": 72, "reviewing": 10, "failed": 8, "cancelled": 5, "pending": 4, "processing": 1}
HISTORY_DAYS = 90
CHUNK_ROWS = 2_000
WORKER = "bench-host:4242:0a1b2c"
SEED = 20261130


def seed(count: int, payloads: list[dict[str, Any]] | None = None) -> dict[str, int]:
    """Adds ``count`` tasks and their events to the configured database; returns row counts and its size.

    ``payloads`` (default: :func:`real_payloads`) are the JSON columns the tasks copy, in its shape.
    """
    payloads = payloads or real_payloads()
    with session_scope() as session:
        user_ids = list(session.scalars(select(User.id).order_by(User.id)))
    db = database()
    with db.checkpoints_paused(), _bulk_connection(db) as connection:
        _insert_tasks(connection, payloads, _task_rows(count, len(payloads), user_ids, random.Random(SEED)))
        events = _insert_events(connection)
        connection.commit()
    _analyse(db)
    os.sync()  # the timed calls that follow should not compete with writing gigabytes back to disk
    return {"tasks": count, "events": events, "database_bytes": _size(db)}


def real_payloads() -> list[dict[str, Any]]:
    """Runs the workflow once per demo test case (in memory, offline provider) and keeps the JSON it left.

    Each dict has the test case's id and the JSON columns of its task: input_params, interrupt_data
    (while it waits for review) and result_data (once completed; created_case stays NULL, as the runner leaves it).
    """
    settings = get_settings()
    graph = build_graph(InMemorySaver())
    context = workflow_context(settings, create_case=_case_in_memory)
    with session_scope() as session:
        cases = session.execute(
            select(TestCase.id, TestCase.title, TestCase.module, TestCase.scene_id)
            .where(TestCase.scene_id.is_not(None))
            .order_by(TestCase.id)
        ).all()
    payloads = []
    for case_id, title, module, scene_id in cases:
        start = WorkflowState(task_id=0, test_case_id=case_id, scene_id=str(scene_id), name=title, module_id=module)
        config: Any = thread_config(f"payload-{case_id}")
        paused = graph.invoke(start, config, context=context)
        review = paused["__interrupt__"][0].value
        decision = Decision(review_status="approved", rows=None, feedback="", reviewer="bench", round=review["round"])
        created = graph.invoke(Command(resume=decision), config, context=context)["result"]["created_case"]
        payloads.append({
            "test_case_id": case_id,
            "input_params": {key: value for key, value in start.items() if key != "task_id"},
            "interrupt_data": review,
            "result_data": {
                "new_usercase_id": created["new_usercase_id"], "rows": created["rows"], "review_rounds": 1,
                "provider": created["provider"], "model": created["model"],
            },
        })
    return payloads


def _case_in_memory(state: WorkflowState) -> CreatedCase:
    """Step 10 without the automation_cases row: the shape core.cases.case_as_dict gives."""
    draft = state["draft"]
    return CreatedCase(new_usercase_id="UC0", created_case={
        "id": 0, "new_usercase_id": "UC0", "name": draft["name"], "module_id": draft["module_id"],
        "scene_id": draft["scene_id"], "test_case_id": draft["test_case_id"], "method": draft["method"],
        "path": draft["path"], "rows": draft["rows"], "provider": draft["provider"], "model": draft["model"],
        "task_id": state["task_id"], "created_at": isoformat(utcnow()),
    })


def _task_rows(count: int, payload_count: int, user_ids: list[int], rng: random.Random) -> Iterator[dict[str, Any]]:
    """``count`` tasks over the last HISTORY_DAYS, oldest first; a few owners start most of them."""
    first = utcnow() - timedelta(days=HISTORY_DAYS)
    spacing = timedelta(days=HISTORY_DAYS) / count
    user_weights = [1 / rank for rank in range(1, len(user_ids) + 1)]
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    for index in range(count):
        user_id = rng.choices(user_ids, user_weights)[0]
        created = first + spacing * index
        priority = rng.choice((5, 5, 5, 5, 3, 7, 9, 0))
        yield {
            "seq": index,
            "payload": rng.randrange(payload_count),
            "thread_id": f"workflow_{user_id}_{rng.getrandbits(24):06x}{index:06x}",
            "task_type": "automation_case",
            "user_id": user_id,
            "priority": priority,
            "created_at": created,
            "ranked_at": queue_rank(priority, created),
            "run_after": None,
            **_outcome(rng.choices(statuses, weights)[0], created, index, rng),
        }


def _outcome(status: str, created: datetime, index: int, rng: random.Random) -> dict[str, Any]:
    """The plain columns a task in ``status`` has (as core.runner and core.service leave them)."""
    started = created + timedelta(seconds=rng.uniform(0.05, 30))
    ended = started + timedelta(seconds=rng.uniform(60, 3600))
    row: dict[str, Any] = {
        "status": status, "current_step": None, "progress": 0, "error_message": None, "need_review": False,
        "new_usercase_id": None, "started_at": started, "completed_at": None, "updated_at": started,
        "attempts": 1, "claims": 1, "lease_owner": None, "lease_expires_at": None, "review_asked_at": None,
    }
    if status == "pending":
        row.update(started_at=None, updated_at=created, attempts=0, claims=0)
    elif status == "processing":
        row.update(current_step="generate_bodies", progress=40, lease_owner=WORKER,
                   lease_expires_at=started + timedelta(seconds=60))
    elif status == "reviewing":
        row.update(current_step=AWAITING_REVIEW, progress=80, need_review=True,
                   review_asked_at=started)  # its need-review event is at "started"
    elif status == "completed":
        row.update(current_step=CASE_CREATED, progress=100, new_usercase_id=f"UC{index + 1}", completed_at=ended,
                   updated_at=ended, claims=2)
    elif status == "failed":
        row.update(current_step="validate_bodies", completed_at=ended, updated_at=ended, attempts=3, claims=3,
                   error_message="Step 5 (Validate against the schema) failed: TransientError: the provider timed out")
    else:
        row.update(current_step="plan_rows", progress=25, completed_at=ended, updated_at=ended)
    return row


def _insert_tasks(connection: Connection, payloads: list[dict[str, Any]], rows: Iterable[dict[str, Any]]) -> None:
    """Stages the plain columns, then copies them and the shared JSON in one INSERT ... SELECT.

    The database copies each payload as it is stored (on PostgreSQL, already compressed) instead of parsing
    and compressing tens of kilobytes of JSON per row: seconds instead of minutes at 100,000 tasks.
    """
    metadata = MetaData()
    json_columns = [c for c in WorkflowTask.__table__.columns if isinstance(c.type, JSON) and c.name != "created_case"]
    from_payload = {"id", "test_case_id", "created_case", *(c.name for c in json_columns)}
    plain_columns = [c for c in WorkflowTask.__table__.columns if c.name not in from_payload]
    staged = Table(
        "bench_tasks", metadata, Column("seq", Integer), Column("payload", Integer),
        *(Column(c.name, c.type) for c in plain_columns), prefixes=["TEMPORARY"],
    )
    shared = Table(
        "bench_payloads", metadata, Column("payload", Integer), Column("test_case_id", Integer),
        *(Column(c.name, JSON) for c in json_columns), prefixes=["TEMPORARY"],
    )
    metadata.create_all(connection)
    connection.execute(insert(shared), [{"payload": index, **p} for index, p in enumerate(payloads)])
    for chunk in _chunks(rows, CHUNK_ROWS):
        connection.execute(insert(staged), chunk)
    s, p = staged.c, shared.c
    completed = s.status == "completed"
    values = {
        **{c.name: s[c.name] for c in plain_columns},
        "test_case_id": p.test_case_id,
        "input_params": p.input_params,
        "interrupt_data": case((s.status == "reviewing", p.interrupt_data)),
        "result_data": case((completed, p.result_data)),
    }
    query = select(*values.values()).join(shared, p.payload == s.payload).order_by(s.seq)
    connection.execute(insert(WorkflowTask).from_select(list(values), query))
    metadata.drop_all(connection)


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _event_templates() -> list[dict[str, Any]]:
    """The events each status leaves (a completed task has 15, as a real run does)."""
    def event(type_: str, step: str | None = None, at: str = "started", **data: Any) -> dict[str, Any]:
        known = STEP_BY_NODE.get(step or "")
        return {
            "type": type_, "step": step, "at": at, "message": f"Step {known.number}: {known.label}" if known else type_,
            "data": data or ({"step_number": known.number} if known else None),
            "duration_ms": 40 if known else None, "worker": None if type_ == "task_created" else WORKER,
        }

    created = event("task_created", at="created", status="pending", priority=5)
    started = event("workflow_started", status="processing")
    steps = [event("step_completed", s.node) for s in STEPS if s.number in (1, 2, 3, 4, 5, 7, 8)]
    review = event("workflow_need_review", AWAITING_REVIEW, status="reviewing", rows=40)
    flows = {
        "pending": [created],
        "processing": [created, started, *steps[:3]],
        "reviewing": [created, started, *steps, review],
        "completed": [
            created, started, *steps, review, event("review_submitted", review_status="approved", round=1),
            event("task_resumed", status="processing"), event("step_completed", "human_review"),
            event("step_completed", "create_case", at="completed"),
            event("workflow_completed", CASE_CREATED, at="completed", status="completed"),
        ],
        "failed": [created, started, *steps[:4], event("workflow_failed", "validate_bodies", at="completed",
                                                       status="failed")],
        "cancelled": [created, started, *steps[:2], event("task_cancelled", at="completed", status="cancelled")],
    }
    return [{"status": status, "seq": seq, **e} for status, flow in flows.items() for seq, e in enumerate(flow)]


def _insert_events(connection: Connection) -> int:
    """Every seeded task's events in one INSERT ... SELECT, from a small temporary table of templates."""
    templates = Table(
        "bench_event_templates", MetaData(),
        Column("status", String(50)), Column("seq", Integer), Column("type", String(50)), Column("step", String(100)),
        Column("message", Text), Column("data", JSON), Column("duration_ms", Integer), Column("worker", String(200)),
        Column("at", String(10)),
        prefixes=["TEMPORARY"],
    )
    templates.create(connection)
    connection.execute(insert(templates), _event_templates())
    tasks, t = WorkflowTask.__table__, templates.c
    at = case(
        (t.at == "completed", func.coalesce(tasks.c.completed_at, tasks.c.created_at)),
        (t.at == "started", func.coalesce(tasks.c.started_at, tasks.c.created_at)),
        else_=tasks.c.created_at,
    )
    rows = (
        select(tasks.c.id, t.type, t.step, t.message, t.data, t.duration_ms, t.worker, at)
        .join(templates, t.status == tasks.c.status)
        .order_by(tasks.c.id, t.seq)
    )
    columns = ["task_id", "type", "step", "message", "data", "duration_ms", "worker", "created_at"]
    connection.execute(insert(TaskEvent).from_select(columns, rows))
    templates.drop(connection)
    return connection.scalar(select(func.count()).select_from(TaskEvent.__table__)) or 0


@contextmanager
def _bulk_connection(db: Database) -> Iterator[Connection]:
    """A connection for one big transaction; on SQLite without a journal (WAL would write everything twice)."""
    if not db.is_sqlite:
        with db.engine.connect() as connection:
            yield connection
        return
    close_savers()  # leaving WAL mode needs the only connection to the file
    db.engine.dispose()
    with db.engine.connect() as connection:
        driver = cast(sqlite3.Connection, connection.connection.driver_connection)
        driver.execute("PRAGMA journal_mode=OFF")
        driver.execute("PRAGMA synchronous=OFF")
        yield connection
        driver.execute("PRAGMA journal_mode=WAL")
    db.engine.dispose()


def _analyse(db: Database) -> None:
    """On PostgreSQL, what autovacuum would have done to a table that grew over months; SQLite is never analysed."""
    if db.is_sqlite:
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE workflow_tasks")
        connection.exec_driver_sql("VACUUM ANALYZE task_events")


def _size(db: Database) -> int:
    if db.is_sqlite:
        return Path(db.url.database or "").stat().st_size
    with db.engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() or 0)
