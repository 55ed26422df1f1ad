"""SQLite: the task search index merges its segments in the background, not in the commit of a task start

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-13 10:00:00.000000

Every commit that adds a task writes a small segment to the FTS5 index ``task_search`` (0016), and by
default FTS5 merges segments inside that commit ('automerge' 4): at 200,000 tasks one start in a hundred
paid 15-40 ms for a merge. Here commits merge no segments but when a level holds 64 of them
('crisismerge', the bound on how far merging may fall behind); each process's background thread
(db.session.WalCheckpointer) merges a few pages a second instead. The settings live in the index's own
configuration table. PostgreSQL: nothing (its trigram indexes are GIN).
"""
from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0020'
down_revision: str | Sequence[str] | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKGROUND = {'automerge': 0, 'crisismerge': 64}
FTS5_DEFAULTS = {'automerge': 4, 'crisismerge': 16}


def upgrade() -> None:
    _configure(BACKGROUND)


def downgrade() -> None:
    _configure(FTS5_DEFAULTS)


def _configure(settings: dict[str, int]) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name, value in settings.items():
        op.execute(f"INSERT INTO task_search (task_search, rank) VALUES ('{name}', {value})")
