"""free-text search of the task list through an index: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 10:00:00.000000

The search matches the thread id or the input parameters' JSON text with LIKE (ILIKE on PostgreSQL),
Chinese included: trigram indexes serve any pattern with three characters in a row and split no words.
On SQLite, ``task_search`` is an external-content FTS5 table over workflow_tasks kept by triggers;
FTS5 answers LIKE from the index and SQLite checks each candidate row with the LIKE itself, so the
matches stay those of a LIKE on the rows (core.service.tasks.list_tasks). On PostgreSQL, two GIN
indexes serve the same ILIKE on the columns: the planner ORs their bitmaps.
"""
from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "thread_id, input_params"
INSERT = f"INSERT INTO task_search (rowid, {COLUMNS}) VALUES (NEW.id, NEW.thread_id, NEW.input_params);"
DELETE = (f"INSERT INTO task_search (task_search, rowid, {COLUMNS}) "
          "VALUES ('delete', OLD.id, OLD.thread_id, OLD.input_params);")
SQLITE_TRIGGERS = {
    'task_search_insert': f"AFTER INSERT ON workflow_tasks BEGIN {INSERT} END",
    'task_search_delete': f"AFTER DELETE ON workflow_tasks BEGIN {DELETE} END",
    'task_search_update': ("AFTER UPDATE OF thread_id, input_params ON workflow_tasks "
                           f"WHEN OLD.thread_id IS NOT NEW.thread_id OR OLD.input_params IS NOT NEW.input_params "
                           f"BEGIN {DELETE} {INSERT} END"),
}
PG_INDEXES = {
    'idx_workflow_tasks_thread_id_trgm': 'thread_id gin_trgm_ops',
    'idx_workflow_tasks_input_params_trgm': '(CAST(input_params AS TEXT)) gin_trgm_ops',
}


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"CREATE VIRTUAL TABLE task_search USING fts5({COLUMNS}, content='workflow_tasks', "
                   "content_rowid='id', tokenize='trigram')")
        op.execute("INSERT INTO task_search (task_search) VALUES ('rebuild')")
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in PG_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON workflow_tasks USING gin ({expression})")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS task_search")
        return
    for name in PG_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
