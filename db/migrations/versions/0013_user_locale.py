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


def upgrade() -> None:
    """Upgrade schema: plain ADD COLUMNs (no table copy on SQLite)."""
    op.add_column('users', sa.Column('locale', sa.String(length=20), nullable=True))
    op.add_column('users', sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema: plain DROP COLUMNs (SQLite 3.35+). SQLite's batch table copy would drop users,
    which deletes the rows that reference a user (webhooks, sessions) and the lower(username) index."""
    op.drop_column('users', 'time_zone')
    op.drop_column('users', 'locale')
