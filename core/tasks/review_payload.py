"""A finished task's review payload (``interrupt_data``) without a second copy of its case's rows.

While a task waits for review, ``interrupt_data`` holds the generated rows. Once the case exists
and the reviewer took the rows as generated, those rows are the automation case's rows: the task
row then keeps the rest of the payload and the mark ``generated_body_is_case``, and readers put
the rows back from the case. Rows a reviewer corrected differ from the case's and stay.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AutomationCase, WorkflowTask

FROM_CASE = "generated_body_is_case"


def compacted(session: Session, task_id: int) -> dict[str, Any] | None:
    """The payload to keep once ``task_id``'s case exists: its generated rows dropped when they are the case's."""
    data = session.scalar(select(WorkflowTask.interrupt_data).where(WorkflowTask.id == task_id))
    if not data or "generated_body" not in data:
        return data
    rows = session.scalar(select(AutomationCase.rows).where(AutomationCase.task_id == task_id))
    if rows != data["generated_body"]:
        return data
    return {**{key: value for key, value in data.items() if key != "generated_body"}, FROM_CASE: True}


def expanded(session: Session, task_id: int, data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The payload as it was at the review: rows kept on the case are put back."""
    if not data or not data.get(FROM_CASE):
        return data
    rows = session.scalar(select(AutomationCase.rows).where(AutomationCase.task_id == task_id))
    return {**{key: value for key, value in data.items() if key != FROM_CASE}, "generated_body": rows or []}
