"""the waiting reviews' index leads with the status: SQLite's planner takes it without statistics

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-12 10:00:00.000000

``idx_workflow_tasks_review_asked`` (0018) held only ``review_asked_at``. A query for the reviews
waiting says ``status = 'reviewing'``, which SQLite, never analysed, serves from any index leading
with the status (it guesses an equality finds ten rows): it read every reviewing task's large row
through idx_workflow_tasks_claim_rank (280 ms at 200,000 tasks) instead of this index. Led by the
status, the partial index is the one the equality and the age both use, and it covers the query.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0019'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 'idx_workflow_tasks_review_asked'
REVIEWING = "status = 'reviewing'"


def upgrade() -> None:
    _index(['status', 'review_asked_at'])


def downgrade() -> None:
    _index(['review_asked_at'])


def _index(columns: list[str]) -> None:
    op.drop_index(NAME, table_name='workflow_tasks')
    op.create_index(NAME, 'workflow_tasks', columns, unique=False,
                    sqlite_where=sa.text(REVIEWING), postgresql_where=sa.text(REVIEWING))
