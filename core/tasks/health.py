"""Worker health: which schedulers are alive, what they run, and how many slots are free."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from core.config import get_settings
from core.database import session_scope
from db.models import TaskStatus, WorkflowTask
from db.models import Worker as WorkerRow
from db.types import isoformat, utcnow

RECENTLY_STOPPED = timedelta(hours=24)
MAX_LISTED = 50


def alive_after(now: datetime) -> datetime:
    """A worker whose last heartbeat is older than this is presumed dead.

    Heartbeats come every third of the lease, so a live worker beats three times per lease.
    """
    return now - timedelta(seconds=get_settings().lease_seconds + 5)


def health(*, now: datetime | None = None) -> dict[str, Any]:
    """{workers: [...], alive, slots, running}: live workers first, then those stopped in the last day."""
    now = now or utcnow()
    threshold = alive_after(now)
    with session_scope() as session:
        running = dict(session.execute(
            select(WorkflowTask.lease_owner, func.count())
            .where(WorkflowTask.status == TaskStatus.PROCESSING.value, WorkflowTask.lease_owner.is_not(None))
            .group_by(WorkflowTask.lease_owner)
        ).all())
        rows = session.scalars(
            select(WorkerRow)
            .where(or_(
                and_(WorkerRow.stopped_at.is_(None), WorkerRow.last_heartbeat_at >= now - RECENTLY_STOPPED),
                WorkerRow.stopped_at >= now - RECENTLY_STOPPED,
            ))
            .order_by(WorkerRow.last_heartbeat_at.desc())
            .limit(MAX_LISTED)
        ).all()
        workers = [_worker(row, threshold, running.get(row.id, 0)) for row in rows]
    workers.sort(key=lambda w: (w["state"] != "alive", w["id"]))
    alive = [w for w in workers if w["state"] == "alive"]
    return {
        "workers": workers,
        "alive": len(alive),
        "slots": sum(w["concurrency"] for w in alive),
        "running": sum(running.values()),
    }


def _worker(row: WorkerRow, threshold: datetime, running: int) -> dict[str, Any]:
    if row.stopped_at is not None:
        state = "stopped"
    elif row.last_heartbeat_at >= threshold:
        state = "alive"
    else:
        state = "lost"  # no clean stop and no heartbeat: killed, or its machine is gone
    return {
        "id": row.id, "hostname": row.hostname, "pid": row.pid, "concurrency": row.concurrency, "state": state,
        "running": running, "started_at": isoformat(row.started_at),
        "last_heartbeat_at": isoformat(row.last_heartbeat_at), "stopped_at": isoformat(row.stopped_at),
    }
