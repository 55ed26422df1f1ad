"""scenes remember how their request body is sent (JSON or a form)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:05:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('scenes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_media_type', sa.String(length=100), nullable=False,
                                      server_default='application/json'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('scenes', schema=None) as batch_op:
        batch_op.drop_column('request_media_type')
