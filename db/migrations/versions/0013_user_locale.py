"""users keep their dashboard language and time zone (NULL: the browser's)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOWER_USERNAME = "uq_users_username_lower"
"""An index on an expression (lower(username)): SQLite's batch table copy cannot carry it."""


def upgrade() -> None:
    """Upgrade schema: plain ADD COLUMNs (no table copy on SQLite)."""
    op.add_column('users', sa.Column('locale', sa.String(length=20), nullable=True))
    op.add_column('users', sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema; on SQLite the columns go with a table copy, and the expression index is made again."""
    copying = op.get_bind().dialect.name == "sqlite"
    if copying:
        op.drop_index(LOWER_USERNAME, table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('locale')
    if copying:
        op.create_index(LOWER_USERNAME, 'users', [sa.text('lower(username)')], unique=True)
