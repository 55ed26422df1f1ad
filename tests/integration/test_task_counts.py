"""Tasks per status: counted up to a cap on each refresh, exactly from the rollups for the monitoring scrape."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select, update

from core import service
from core.database import session_scope
from core.service import tasks
from db.models import TaskStatus, TestCase, User, WorkflowTask
from db.types import utcnow

CAP = 3


def _add(status: str, count: int) -> None:
    now = utcnow()
    with session_scope() as session:
        user = session.scalar(select(User.id))
        case_id = session.scalar(select(TestCase.id))
        session.add_all(WorkflowTask(thread_id=f"{status}-{n}", user_id=user, test_case_id=case_id, status=status,
                                     input_params={"module_id": "orders"}, created_at=now, ranked_at=now)
                        for n in range(count))


def test_counts_stop_past_the_cap_and_the_exact_ones_follow_every_change(demo: dict[str, Any],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "COUNT_CAP", CAP)
    _add("pending", 5)
    _add("completed", 2)
    _add("failed", CAP)
    zero = {status.value: 0 for status in TaskStatus}
    assert service.task_counts() == {**zero, "pending": CAP + 1, "completed": 2, "failed": CAP}
    assert service.task_counts(exact=True) == {**zero, "pending": 5, "completed": 2, "failed": CAP}
    with session_scope() as session:
        session.execute(update(WorkflowTask).where(WorkflowTask.thread_id.in_(["pending-0", "pending-1"]))
                        .values(status="processing"))
        session.execute(delete(WorkflowTask).where(WorkflowTask.thread_id == "failed-0"))
    assert service.task_counts() == {**zero, "pending": CAP, "processing": 2, "completed": 2, "failed": 2}
    assert service.task_counts(exact=True) == service.task_counts()
