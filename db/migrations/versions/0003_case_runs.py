"""case runs: each run of an automation case against a base URL; scenes remember their source document

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 23:05:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('scenes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_scenes_source'), ['source'], unique=False)

    op.create_table('case_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('run_by', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['automation_cases.id'], name=op.f('fk_case_runs_case_id_automation_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_by'], ['users.id'], name=op.f('fk_case_runs_run_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_runs'))
    )
    with op.batch_alter_table('case_runs', schema=None) as batch_op:
        batch_op.create_index('idx_case_runs_case_id', ['case_id', 'id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('case_runs', schema=None) as batch_op:
        batch_op.drop_index('idx_case_runs_case_id')

    op.drop_table('case_runs')
    with op.batch_alter_table('scenes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenes_source'))
        batch_op.drop_column('source')
