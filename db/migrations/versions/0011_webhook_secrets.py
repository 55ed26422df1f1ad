"""webhook secrets encrypted at rest: webhooks.secret (plain) becomes webhooks.encrypted_secret (Fernet)

Existing secrets are encrypted with the configured key (CASEFLOW_SECRET_KEY, else CaseFlow's
own key file, created here if there is a secret to encrypt): `python -m core db upgrade` hands
this migration core.encryption as the config attribute "secrets" (db/ imports nothing of core).
The downgrade decrypts them back, so it needs the same key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00.000000

"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('encrypted_secret', sa.Text(), nullable=True))
    _convert('secret', 'encrypted_secret', 'encrypt')
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_column('secret')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.String(length=200), nullable=True))
    _convert('encrypted_secret', 'secret', 'decrypt')
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_column('encrypted_secret')


def _convert(source: str, target: str, how: str) -> None:
    """Writes secrets.<how>(source) into target on every row that has a secret."""
    webhooks = sa.table('webhooks', sa.column('id', sa.Integer()), sa.column(source, sa.Text()),
                        sa.column(target, sa.Text()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(webhooks.c.id, webhooks.c[source]).where(webhooks.c[source].is_not(None))).all()
    if not rows:
        return
    convert = getattr(_secrets(), how)
    for webhook_id, value in rows:
        bind.execute(webhooks.update().where(webhooks.c.id == webhook_id).values({target: convert(value)}))


def _secrets() -> Any:
    config = op.get_context().config
    secrets = config.attributes.get('secrets') if config is not None else None
    if secrets is None:
        raise RuntimeError("webhook secrets are stored here and this migration needs CaseFlow's key to convert them: "
                           "run it with `python -m core db upgrade`")
    return secrets
