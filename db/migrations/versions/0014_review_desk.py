"""the review desk: who is reviewing a task right now (review_claims) and whom a lead asked to (review_assignments)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: two new tables, nothing existing changes."""
    op.create_table(
        'review_claims',
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['workflow_tasks.id'],
                                name=op.f('fk_review_claims_task_id_workflow_tasks'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_review_claims_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_review_claims')),
    )
    op.create_table(
        'review_assignments',
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=False),
        sa.Column('assigned_by_id', sa.Integer(), nullable=True),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'],
                                name=op.f('fk_review_assignments_assigned_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['assignee_id'], ['users.id'],
                                name=op.f('fk_review_assignments_assignee_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['task_id'], ['workflow_tasks.id'],
                                name=op.f('fk_review_assignments_task_id_workflow_tasks'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_review_assignments')),
    )
    op.create_index(op.f('ix_review_assignments_assignee_id'), 'review_assignments', ['assignee_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_review_assignments_assignee_id'), table_name='review_assignments')
    op.drop_table('review_assignments')
    op.drop_table('review_claims')
