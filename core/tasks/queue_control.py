"""Pausing and resuming the queue: one row of ``system_state`` that every claim reads.

A paused queue claims nothing; tasks already running finish their current run, and
starting, reviewing and retrying tasks still work (they wait in the queue).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.database import session_scope
from db.models import SystemState, TaskStatus, WorkflowTask
from db.types import isoformat, utcnow

QUEUE_KEY = "queue"


def is_paused(session: Session) -> bool:
    row = session.get(SystemState, QUEUE_KEY)
    return bool(row is not None and row.value.get("paused"))


def set_paused(paused: bool, by: str) -> dict[str, Any]:
    """Pauses or resumes the queue; returns the queue's status."""
    with session_scope() as session:
        row = session.get(SystemState, QUEUE_KEY, with_for_update=True)
        if row is None:
            row = SystemState(key=QUEUE_KEY, value={})
            session.add(row)
        row.value = {**row.value, "paused": paused}
        row.updated_by = by
        row.updated_at = utcnow()
    return status()


def status() -> dict[str, Any]:
    """{paused, changed_by, changed_at, runnable, waiting_to_retry, running, caps}."""
    now = utcnow()
    t = WorkflowTask
    with session_scope(read_only=True) as session:
        row = session.get(SystemState, QUEUE_KEY)
        runnable = session.scalar(select(func.count()).select_from(t).where(
            t.status == TaskStatus.PENDING.value, or_(t.run_after.is_(None), t.run_after <= now))) or 0
        pending = session.scalar(select(func.count()).select_from(t).where(t.status == TaskStatus.PENDING.value)) or 0
        running = session.scalar(
            select(func.count()).select_from(t).where(t.status == TaskStatus.PROCESSING.value)) or 0
    settings = get_settings()
    return {
        "paused": bool(row is not None and row.value.get("paused")),
        "changed_by": row.updated_by if row is not None else None,
        "changed_at": isoformat(row.updated_at) if row is not None else None,
        "runnable": runnable,
        "waiting_to_retry": pending - runnable,
        "running": running,
        "caps": {"per_user": settings.max_running_per_user, "per_module": settings.max_running_per_module,
                 "priority_aging_seconds": settings.priority_aging_seconds},
    }
