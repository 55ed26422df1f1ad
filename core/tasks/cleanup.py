"""Retention: removes terminal tasks older than the retention, with their events, reviews and checkpoints.

Automation cases are the product and stay; they only lose the link to their task.
Checkpoints go first, so a cleanup cut short leaves rows that the next one removes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from sqlalchemy import delete, func, select

from core.database import database, session_scope
from core.workflow.checkpointer import get_saver
from db.models import Review, TaskEvent, TaskStatus, WorkflowTask
from db.types import isoformat, utcnow


class CleanupReport(TypedDict):
    cutoff: str
    dry_run: bool
    tasks: int
    events: int
    reviews: int
    checkpoint_threads: int


def cleanup(days: int, *, dry_run: bool = False, batch_size: int = 500) -> CleanupReport:
    """Deletes (or, dry, counts) what the retention of ``days`` days removes."""
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
    saver = get_saver(database())
    while True:
        with session_scope() as session:
            batch = session.execute(select(WorkflowTask.id, WorkflowTask.thread_id).where(*old).limit(batch_size)).all()
        if not batch:
            return report
        for _, thread_id in batch:
            saver.delete_thread(thread_id)
        ids = [task_id for task_id, _ in batch]
        with session_scope() as session:
            report["events"] += session.execute(delete(TaskEvent).where(TaskEvent.task_id.in_(ids))).rowcount
            report["reviews"] += session.execute(delete(Review).where(Review.task_id.in_(ids))).rowcount
            report["tasks"] += session.execute(delete(WorkflowTask).where(WorkflowTask.id.in_(ids))).rowcount
        report["checkpoint_threads"] += len(batch)
