"""queue policy: a claim rank with aging on every task, and system_state for pausing the queue

Existing tasks are ranked with the default PRIORITY_AGING_SECONDS (600 s per level).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:20:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_AGING_SECONDS = 600


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('system_state',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_system_state'))
    )
    with op.batch_alter_table('workflow_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ranked_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE workflow_tasks SET ranked_at = {_ranked_at()}")
    with op.batch_alter_table('workflow_tasks', schema=None) as batch_op:
        batch_op.alter_column('ranked_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_index('idx_workflow_tasks_claim_order')
        batch_op.create_index('idx_workflow_tasks_claim_rank', ['status', 'ranked_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('workflow_tasks', schema=None) as batch_op:
        batch_op.drop_index('idx_workflow_tasks_claim_rank')
        batch_op.drop_column('ranked_at')
    # outside the batch: SQLite's table copy cannot carry an index on an expression (priority DESC)
    op.create_index('idx_workflow_tasks_claim_order', 'workflow_tasks', ['status', sa.text('priority DESC'),
                                                                          'created_at'])
    op.drop_table('system_state')


def _ranked_at() -> str:
    """created_at less priority × the default aging, in each backend's date arithmetic."""
    if op.get_bind().dialect.name == 'sqlite':
        return f"datetime(created_at, '-' || (priority * {DEFAULT_AGING_SECONDS}) || ' seconds')"
    return f"created_at - priority * interval '{DEFAULT_AGING_SECONDS} seconds'"
