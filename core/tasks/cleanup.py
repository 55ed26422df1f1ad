"""Retention: removes terminal tasks older than the retention, with their events, reviews and checkpoints.

Automation cases are the product and stay; they only lose the link to their task. Each batch of
tasks goes in one short transaction with its checkpoints, events and reviews (the rollup and search
triggers follow in it), sized so that a claim never waits long for the rows or SQLite's write lock.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TypedDict

from sqlalchemy import column, delete, func, select, table
from sqlalchemy.orm import Session

from core.database import database, session_scope
from db.models import Review, TaskEvent, TaskStatus, WorkflowTask
from db.types import isoformat, utcnow

BATCH_SECONDS = {"sqlite": 0.04, "postgresql": 0.2}
"""How long one batch's transaction may last: on SQLite it holds the whole database's write lock, which every
claim needs; on PostgreSQL it locks only the old rows it deletes, which no claim touches."""
FIRST_BATCH = 200
"""The first batch's size; the next ones grow or shrink towards BATCH_SECONDS, up to the caller's batch_size."""
SQLITE_PAUSE_SECONDS = 0.025
"""SQLite's writers wait for its lock by retrying after sleeps of at most 25 ms for their first 100 ms:
a pause this long between two batches lets a waiting claim in before the next batch takes the lock."""
SQLITE_CHECKPOINT_TABLES = ("checkpoints", "writes")
POSTGRES_CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


class CleanupReport(TypedDict):
    cutoff: str
    dry_run: bool
    tasks: int
    events: int
    reviews: int
    checkpoint_threads: int


def cleanup(days: int, *, dry_run: bool = False, batch_size: int = 5_000) -> CleanupReport:
    """Deletes (or, dry, counts) what ``days`` days of retention remove, at most ``batch_size`` tasks a transaction."""
    cutoff = utcnow() - timedelta(days=days)
    old = (WorkflowTask.created_at < cutoff, WorkflowTask.status.in_([s.value for s in TaskStatus.terminal()]))
    report = CleanupReport(cutoff=isoformat(cutoff) or "", dry_run=dry_run, tasks=0, events=0, reviews=0,
                           checkpoint_threads=0)
    if dry_run:
        with session_scope() as session:
            ids = select(WorkflowTask.id).where(*old).scalar_subquery()
            report["tasks"] = session.scalar(select(func.count()).select_from(WorkflowTask).where(*old)) or 0
            report["events"] = session.scalar(select(func.count()).where(TaskEvent.task_id.in_(ids))) or 0
            report["reviews"] = session.scalar(select(func.count()).where(Review.task_id.in_(ids))) or 0
            report["checkpoint_threads"] = report["tasks"]
        return report
    size = min(batch_size, FIRST_BATCH)
    dialect = database().engine.dialect.name
    pause, seconds = SQLITE_PAUSE_SECONDS if dialect == "sqlite" else 0.0, BATCH_SECONDS.get(dialect, 0.04)
    while True:
        began = time.monotonic()
        with session_scope() as session:
            batch = session.execute(select(WorkflowTask.id, WorkflowTask.thread_id).where(*old).limit(size)).all()
            if not batch:
                return report
            ids = [task_id for task_id, _ in batch]
            _delete_checkpoints(session, [thread_id for _, thread_id in batch])
            report["events"] += session.execute(delete(TaskEvent).where(TaskEvent.task_id.in_(ids))).rowcount
            report["reviews"] += session.execute(delete(Review).where(Review.task_id.in_(ids))).rowcount
            report["tasks"] += session.execute(delete(WorkflowTask).where(WorkflowTask.id.in_(ids))).rowcount
        report["checkpoint_threads"] += len(batch)
        size = _next_size(size, (time.monotonic() - began) / seconds, batch_size)
        time.sleep(pause)


def _next_size(size: int, share: float, ceiling: int) -> int:
    """The next batch's size from the last one's ``share`` of its BATCH_SECONDS: doubled under half, halved over."""
    if share > 1:
        return max(1, size // 2)
    if share < 0.5:
        return min(ceiling, size * 2)
    return size


def _delete_checkpoints(session: Session, thread_ids: list[str]) -> None:
    """The threads' checkpoints, in the batch's transaction: what the saver's delete_thread removes, thread by thread.

    The tables are LangGraph's savers' (SqliteSaver: checkpoints, writes; PostgresSaver: checkpoints,
    checkpoint_blobs, checkpoint_writes), all keyed by thread_id first; tests/integration/test_cleanup.py
    checks through the saver that nothing of a removed thread is left.
    """
    tables = SQLITE_CHECKPOINT_TABLES if database().is_sqlite else POSTGRES_CHECKPOINT_TABLES
    for name in tables:
        checkpoints = table(name, column("thread_id"))
        session.execute(delete(checkpoints).where(checkpoints.c.thread_id.in_(thread_ids)))
