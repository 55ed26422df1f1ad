"""dashboard sessions that last: user_sessions, and sign-in failures counted per username and per address

Existing failures count for their username (scope "user").

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('grant_hash', sa.String(length=64), nullable=True),
        sa.Column('grant_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
                  nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('grant_hash', name=op.f('uq_user_sessions_grant_hash')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash')),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=10), server_default='user', nullable=False))
        batch_op.drop_index('idx_sign_in_failures_username')
        batch_op.create_index('idx_sign_in_failures_key', ['scope', 'username', 'failed_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM sign_in_failures WHERE scope <> 'user'")
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index('idx_sign_in_failures_key')
        batch_op.create_index('idx_sign_in_failures_username', ['username', 'failed_at'], unique=False)
        batch_op.drop_column('scope')
    op.drop_table('user_sessions')
