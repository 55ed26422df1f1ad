"""usernames unique without regard to case; failed sign-ins, for throttling

A unique index on lower(username) keeps "ADMIN" from being added beside "admin" (SQLite's
lower() folds ASCII letters only; PostgreSQL's folds every letter). A database that already
holds such a pair stops the upgrade with their names: rename or remove one first, nothing is
renamed behind the users' backs. ``sign_in_failures`` holds the failed sign-ins of the last
15 minutes (core.accounts.throttle).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    clashes = op.get_bind().execute(sa.text(
        "SELECT lower(username), count(*) FROM users GROUP BY lower(username) HAVING count(*) > 1"
    )).all()
    if clashes:
        names = ", ".join(sorted(name for name, _ in clashes))
        raise RuntimeError(f"Usernames that differ only in case exist ({names}); rename or remove all but one "
                           f"of each (UPDATE users SET username = ... WHERE id = ...), then upgrade again.")
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index("idx_sign_in_failures_username", "sign_in_failures", ["username", "failed_at"])


def downgrade() -> None:
    op.drop_index("idx_sign_in_failures_username", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index("uq_users_username_lower", table_name="users")
