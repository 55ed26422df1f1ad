"""automation case setup: the requests sent before each row (resources its path names, created first), and a
reviewer's corrected setup

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:40:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('automation_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('setup', sa.JSON(), server_default='[]', nullable=False))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrected_setup', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('corrected_setup')
    with op.batch_alter_table('automation_cases', schema=None) as batch_op:
        batch_op.drop_column('setup')
