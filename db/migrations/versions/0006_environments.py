"""environments: named run targets, each module's default and sandbox environment, the environment of a run

Secrets are not stored: an environment names the process environment variable that
holds its token, key or password.

Revision ID: 0006
Revises: 0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('environments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('auth_kind', sa.String(length=20), server_default='none', nullable=False),
    sa.Column('auth_header', sa.String(length=100), nullable=True),
    sa.Column('auth_username', sa.String(length=200), nullable=True),
    sa.Column('auth_secret_variable', sa.String(length=100), nullable=True),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_environments')),
    sa.UniqueConstraint('name', name=op.f('uq_environments_name'))
    )
    op.create_table('module_environments',
    sa.Column('module', sa.String(length=100), nullable=False),
    sa.Column('default_environment_id', sa.Integer(), nullable=True),
    sa.Column('sandbox_environment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['default_environment_id'], ['environments.id'], name=op.f('fk_module_environments_default_environment_id_environments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sandbox_environment_id'], ['environments.id'], name=op.f('fk_module_environments_sandbox_environment_id_environments'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('module', name=op.f('pk_module_environments'))
    )
    with op.batch_alter_table('module_environments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_module_environments_default_environment_id'), ['default_environment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_module_environments_sandbox_environment_id'), ['sandbox_environment_id'], unique=False)

    with op.batch_alter_table('case_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('environment', sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('case_runs', schema=None) as batch_op:
        batch_op.drop_column('environment')

    with op.batch_alter_table('module_environments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_environments_sandbox_environment_id'))
        batch_op.drop_index(batch_op.f('ix_module_environments_default_environment_id'))

    op.drop_table('module_environments')
    op.drop_table('environments')
