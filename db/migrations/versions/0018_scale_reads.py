"""a million tasks, reads: when a task asked for review kept on its row, a step-event index, rollups by status

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-11 10:00:00.000000

- ``workflow_tasks.review_asked_at``: when the task last asked for a review, written with its
  need-review event (core.tasks.lifecycle.review_requested), so the review desk, the deadlines and the
  metrics read the waiting reviews from one partial index instead of grouping task_events. Backfilled
  from the latest need-review event of every task awaiting review.
- ``idx_task_events_steps``: the step timings the metrics page reads for the partial days at the edges
  of a range (type = 'step_completed' with a duration).
- ``metric_rollups``' key becomes (kind, day, status, module, bucket): the metrics filter kind and day
  and group by status, a prefix of the key now. On SQLite the table is rebuilt WITHOUT ROWID, so a
  lookup reads the key's b-tree alone. The triggers of 0015 and 0017 name the columns, not their order.
- PostgreSQL: the rollups of inserts and deletes are kept by statement-level triggers that read the
  statement's rows from a transition table and add them up in one upsert, instead of one upsert per
  row: a bulk delete (the cleanup) or a bulk load pays once per statement. A task's status change
  stays a row-level trigger (0015's rollup_tasks): transition tables cannot go with UPDATE OF columns.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_KEY = ('kind', 'day', 'status', 'module', 'bucket')
OLD_KEY = ('kind', 'day', 'module', 'status', 'bucket')
ROLLUP_COLUMNS = "kind, day, module, status, bucket, count, seconds, peak"


def upgrade() -> None:
    op.add_column('workflow_tasks', sa.Column('review_asked_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE workflow_tasks SET review_asked_at = (SELECT max(e.created_at) FROM task_events e "
               "WHERE e.task_id = workflow_tasks.id AND e.type = 'workflow_need_review') WHERE status = 'reviewing'")
    op.create_index('idx_workflow_tasks_review_asked', 'workflow_tasks', ['review_asked_at'], unique=False,
                    sqlite_where=sa.text("status = 'reviewing'"), postgresql_where=sa.text("status = 'reviewing'"))
    op.create_index('idx_task_events_steps', 'task_events', ['task_id', 'step', 'duration_ms'], unique=False,
                    sqlite_where=sa.text("type = 'step_completed' AND duration_ms IS NOT NULL"),
                    postgresql_where=sa.text("type = 'step_completed' AND duration_ms IS NOT NULL"))
    _rekey(NEW_KEY, without_rowid=True)
    if op.get_bind().dialect.name != 'sqlite':
        _statement_triggers_up()


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        _statement_triggers_down()
    _rekey(OLD_KEY, without_rowid=False)
    op.drop_index('idx_task_events_steps', table_name='task_events')
    op.drop_index('idx_workflow_tasks_review_asked', table_name='workflow_tasks')
    op.drop_column('workflow_tasks', 'review_asked_at')  # ALTER TABLE DROP COLUMN: no copy that loses triggers


def _rekey(key: tuple[str, ...], *, without_rowid: bool) -> None:
    """The rollups' primary key in ``key`` order; SQLite cannot alter a key, so its table is rebuilt.

    Rebuilt by copy, drop and create under the same name (no RENAME, which would rewrite the
    triggers that write the table into naming the copy).
    """
    if op.get_bind().dialect.name != 'sqlite':
        op.execute("ALTER TABLE metric_rollups DROP CONSTRAINT pk_metric_rollups, "
                   f"ADD CONSTRAINT pk_metric_rollups PRIMARY KEY ({', '.join(key)})")
        return
    op.execute(f"CREATE TEMP TABLE metric_rollups_copy AS SELECT {ROLLUP_COLUMNS} FROM metric_rollups")
    op.execute("DROP TABLE metric_rollups")
    op.execute(
        "CREATE TABLE metric_rollups (kind VARCHAR(10) NOT NULL, day VARCHAR(10) NOT NULL, "
        "module VARCHAR(100) NOT NULL, status VARCHAR(100) NOT NULL, bucket INTEGER NOT NULL, "
        "count INTEGER NOT NULL, seconds FLOAT NOT NULL, peak FLOAT, "
        f"CONSTRAINT pk_metric_rollups PRIMARY KEY ({', '.join(key)})){' WITHOUT ROWID' if without_rowid else ''}")
    op.execute(f"INSERT INTO metric_rollups ({ROLLUP_COLUMNS}) SELECT {ROLLUP_COLUMNS} FROM metric_rollups_copy")
    op.execute("DROP TABLE metric_rollups_copy")


# PostgreSQL: statement-level rollup triggers --------------------------------------------------------

BUCKET_BASE = 1.05  # core.tasks.metrics.BUCKET_BASE, as in 0015
NO_BUCKET = -1000  # core.tasks.metrics.NO_BUCKET
UNEDITED = "CASE WHEN {0}.review_status = 'approved' AND NOT {0}.edited THEN 1 ELSE 0 END"  # as in 0017
TASK_KEY = f"""LATERAL (SELECT to_char(timezone('UTC', {{0}}.created_at), 'YYYY-MM-DD') AS day,
                       coalesce({{0}}.input_params ->> 'module_id', '') AS module, d.seconds,
                       CASE WHEN d.seconds IS NULL THEN {NO_BUCKET}
                            ELSE floor(ln(greatest(d.seconds, 0.001)) / ln({BUCKET_BASE}))::integer END AS bucket
                FROM (SELECT CASE WHEN {{0}}.status = 'completed' AND {{0}}.started_at IS NOT NULL
                                   AND {{0}}.completed_at IS NOT NULL
                             THEN extract(epoch FROM {{0}}.completed_at - {{0}}.started_at)::double precision
                             END AS seconds) d) k"""
"""0015's rollup_task_key as a lateral subquery: a transition table's rows are records, not workflow_tasks."""

UPSERT = """
    INSERT INTO metric_rollups AS x (kind, day, module, status, bucket, count, seconds, peak)
    SELECT kind, day, module, status, bucket, sign * n, sign * secs, CASE WHEN sign = 1 THEN top END
    FROM ({rows}) AS added
    ORDER BY kind, day, status, module, bucket  -- one order for every writer, so that two cannot deadlock
    ON CONFLICT (kind, day, status, module, bucket) DO UPDATE SET count = x.count + excluded.count,
        seconds = x.seconds + excluded.seconds, peak = greatest(x.peak, excluded.peak);
"""

GROUPED = {
    'tasks': f"""SELECT 'task' AS kind, k.day, k.module, r.status, k.bucket, count(*) AS n,
                        coalesce(sum(k.seconds), 0) AS secs, NULL::double precision AS top
                 FROM changed r, {TASK_KEY.format('r')} GROUP BY 2, 3, 4, 5""",
    'reviews': f"""SELECT 'review' AS kind, to_char(timezone('UTC', r.created_at), 'YYYY-MM-DD') AS day, '' AS module,
                          r.review_status AS status, {NO_BUCKET} AS bucket, count(*) AS n, 0::double precision AS secs,
                          NULL::double precision AS top
                   FROM changed r GROUP BY 2, 4""",
    'rounds': f"""SELECT 'round' AS kind, to_char(timezone('UTC', r.created_at), 'YYYY-MM-DD') AS day,
                         coalesce(r.scene_id, '') AS module, coalesce(r.provider, '') AS status,
                         {UNEDITED.format('r')} AS bucket, count(*) AS n, 0::double precision AS secs,
                         NULL::double precision AS top
                  FROM changed r GROUP BY 2, 3, 4, 5""",
    # a step event deleted with its task finds no task: the task's rollup went with it (as in 0015)
    'steps': f"""SELECT 'step' AS kind, k.day, k.module, coalesce(e.step, '') AS status, {NO_BUCKET} AS bucket,
                        count(*) AS n, sum(e.duration_ms)::double precision AS secs,
                        max(e.duration_ms)::double precision AS top
                 FROM changed e JOIN workflow_tasks t ON t.id = e.task_id, {TASK_KEY.format('t')}
                 WHERE e.type = 'step_completed' AND e.duration_ms IS NOT NULL GROUP BY 2, 3, 4""",
}
"""Per kind, the rollups of the rows in the transition table ``changed``, unsigned."""

STATEMENT_TRIGGERS = {  # the row-level trigger of 0015/0017 -> (its table, the rollup kind of GROUPED)
    'rollup_workflow_tasks': ('workflow_tasks', 'tasks'),
    'rollup_reviews': ('reviews', 'reviews'),
    'rollup_rounds': ('reviews', 'rounds'),
    'rollup_task_events': ('task_events', 'steps'),
}


def _statement_triggers_up() -> None:
    for kind, rows in GROUPED.items():
        op.execute(f"""
            CREATE FUNCTION rollup_{kind}_rows() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
            BEGIN {UPSERT.format(rows=rows)} RETURN NULL; END $$""")
    for trigger, (table, kind) in STATEMENT_TRIGGERS.items():
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
        for event, alias in (('INSERT', 'NEW'), ('DELETE', 'OLD')):
            op.execute(f"CREATE TRIGGER {trigger}_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {alias} TABLE AS changed FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION rollup_{kind}_rows()")
    op.execute("CREATE TRIGGER rollup_workflow_tasks AFTER UPDATE OF status, created_at, started_at, completed_at, "
               "input_params ON workflow_tasks FOR EACH ROW EXECUTE FUNCTION rollup_tasks()")


def _statement_triggers_down() -> None:
    op.execute("DROP TRIGGER rollup_workflow_tasks ON workflow_tasks")
    for trigger, (table, _) in STATEMENT_TRIGGERS.items():
        for event in ('insert', 'delete'):
            op.execute(f"DROP TRIGGER {trigger}_{event} ON {table}")
    for kind in GROUPED:
        op.execute(f"DROP FUNCTION rollup_{kind}_rows()")
    op.execute("CREATE TRIGGER rollup_workflow_tasks AFTER INSERT OR DELETE OR UPDATE OF status, created_at, "
               "started_at, completed_at, input_params ON workflow_tasks FOR EACH ROW EXECUTE FUNCTION rollup_tasks()")
    op.execute("CREATE TRIGGER rollup_reviews AFTER INSERT OR DELETE ON reviews FOR EACH ROW "
               "EXECUTE FUNCTION rollup_reviews()")
    op.execute("CREATE TRIGGER rollup_rounds AFTER INSERT OR DELETE ON reviews FOR EACH ROW "
               "EXECUTE FUNCTION rollup_rounds()")
    op.execute("CREATE TRIGGER rollup_task_events AFTER INSERT OR DELETE ON task_events FOR EACH ROW "
               "EXECUTE FUNCTION rollup_steps()")
