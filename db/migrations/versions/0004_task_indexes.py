"""Indexes that match the claim order and the task list's filters.

The claim query orders pending tasks by priority descending, then age; an index in that
order spares SQLite a sort of the whole backlog under the write lock. Status and owner
filters of the task list sort newest first; the metrics read a task's times from the
status index alone instead of its large rows.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_tasks") as batch:
        batch.drop_index("idx_workflow_tasks_claim")
        batch.create_index("idx_workflow_tasks_claim_order", ["status", sa.text("priority DESC"), "created_at"])
        batch.create_index("idx_workflow_tasks_status_times", ["status", "created_at", "started_at", "completed_at"])
        batch.create_index("idx_workflow_tasks_user_created", ["user_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("workflow_tasks") as batch:
        batch.drop_index("idx_workflow_tasks_user_created")
        batch.drop_index("idx_workflow_tasks_status_times")
        batch.drop_index("idx_workflow_tasks_claim_order")
        batch.create_index("idx_workflow_tasks_claim", ["status", "priority", "created_at"])
