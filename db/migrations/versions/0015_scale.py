"""a million tasks: metric rollups kept by triggers, backfilled from the rows there are

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 10:00:00.000000

The triggers run in the transaction of every insert, status change and delete of a task, review
or step event, so the rollups always equal an aggregate over the rows (see db.models.MetricRollup).
They are SQL, not Python, so that every writer (the lifecycle, the cleanup, a bulk load) keeps them.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUCKET_BASE = 1.05  # core.tasks.metrics.BUCKET_BASE: a duration's bucket is floor(log_1.05(seconds))
NO_BUCKET = -1000  # core.tasks.metrics.NO_BUCKET: rows without a duration (seconds of at least 0.001 give > -142)
KEY = "kind, day, module, status, bucket"


def upgrade() -> None:
    op.create_table(
        'metric_rollups',
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('module', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=100), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('peak', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('kind', 'day', 'module', 'status', 'bucket', name=op.f('pk_metric_rollups')),
    )
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_up()
    else:
        _postgres_up()


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('tasks_insert', 'tasks_update', 'tasks_delete', 'reviews_insert', 'reviews_delete',
                     'steps_insert', 'steps_delete'):
            op.execute(f'DROP TRIGGER IF EXISTS rollup_{name}')
    else:
        for table in ('workflow_tasks', 'reviews', 'task_events'):
            op.execute(f'DROP TRIGGER IF EXISTS rollup_{table} ON {table}')
        for function in ('rollup_tasks()', 'rollup_reviews()', 'rollup_steps()',
                         'rollup_add(text, text, text, text, integer, integer, double precision, double precision)',
                         'rollup_task_key(workflow_tasks)'):
            op.execute(f'DROP FUNCTION IF EXISTS {function}')
    op.drop_table('metric_rollups')


# SQLite ---------------------------------------------------------------------------------------------

def _sq_task(row: str) -> dict[str, str]:
    """The rollup key and seconds of a task row (``row`` is NEW, OLD or a table alias) in SQLite's SQL."""
    duration = (f"CASE WHEN {row}.status = 'completed' AND {row}.started_at IS NOT NULL AND {row}.completed_at "
                f"IS NOT NULL THEN (julianday({row}.completed_at) - julianday({row}.started_at)) * 86400.0 END")
    return {
        'day': f"date({row}.created_at)",
        'module': f"coalesce(json_extract({row}.input_params, '$.module_id'), '')",
        'status': f"{row}.status",
        'bucket': f"coalesce({_sq_floor(f'ln(max({duration}, 0.001)) / ln({BUCKET_BASE})')}, {NO_BUCKET})",
        'seconds': f"coalesce({duration}, 0.0)",
    }


def _sq_floor(x: str) -> str:
    """floor(x) as an integer: SQLAlchemy replaces SQLite's floor() by Python's math.floor, which refuses NULL."""
    return f"(CAST({x} AS INTEGER) - ({x} < CAST({x} AS INTEGER)))"


def _sq_upsert(kind: str, key: dict[str, str], sign: int, peak: str = 'NULL') -> str:
    return (
        f"INSERT INTO metric_rollups (kind, day, module, status, bucket, count, seconds, peak) VALUES ("
        f"'{kind}', {key['day']}, {key['module']}, {key['status']}, {key['bucket']}, {sign}, "
        f"{sign} * {key['seconds']}, {peak}) "
        f"ON CONFLICT ({KEY}) DO UPDATE SET count = count + excluded.count, seconds = seconds + excluded.seconds, "
        f"peak = max(coalesce(peak, excluded.peak), coalesce(excluded.peak, peak));"
    )


def _sq_step(row: str) -> dict[str, str]:
    task = f"(SELECT {{}} FROM workflow_tasks t WHERE t.id = {row}.task_id)"
    keys = _sq_task('t')
    return {'day': task.format(keys['day']), 'module': task.format(keys['module']),
            'status': f"coalesce({row}.step, '')", 'bucket': str(NO_BUCKET), 'seconds': f"{row}.duration_ms"}


def _sqlite_up() -> None:
    op.execute(_sq_backfill())
    changed = ' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in
                          ('status', 'created_at', 'started_at', 'completed_at', 'input_params'))
    review = {'day': 'date({0}.created_at)', 'module': "''", 'status': '{0}.review_status', 'bucket': str(NO_BUCKET),
              'seconds': '0.0'}
    step_when = "{0}.type = 'step_completed' AND {0}.duration_ms IS NOT NULL AND EXISTS " \
                "(SELECT 1 FROM workflow_tasks t WHERE t.id = {0}.task_id)"
    triggers = {
        'tasks_insert': ('AFTER INSERT ON workflow_tasks', '', _sq_upsert('task', _sq_task('NEW'), 1)),
        'tasks_delete': ('AFTER DELETE ON workflow_tasks', '', _sq_upsert('task', _sq_task('OLD'), -1)),
        'tasks_update': ('AFTER UPDATE OF status, created_at, started_at, completed_at, input_params ON '
                         'workflow_tasks', f'WHEN {changed}',
                         _sq_upsert('task', _sq_task('OLD'), -1) + _sq_upsert('task', _sq_task('NEW'), 1)),
        'reviews_insert': ('AFTER INSERT ON reviews', '',
                           _sq_upsert('review', {k: v.format('NEW') for k, v in review.items()}, 1)),
        'reviews_delete': ('AFTER DELETE ON reviews', '',
                           _sq_upsert('review', {k: v.format('OLD') for k, v in review.items()}, -1)),
        'steps_insert': ('AFTER INSERT ON task_events', 'WHEN ' + step_when.format('NEW'),
                         _sq_upsert('step', _sq_step('NEW'), 1, peak='NEW.duration_ms')),
        'steps_delete': ('AFTER DELETE ON task_events', 'WHEN ' + step_when.format('OLD'),
                         _sq_upsert('step', _sq_step('OLD'), -1)),
    }
    for name, (event, when, body) in triggers.items():
        op.execute(f'CREATE TRIGGER rollup_{name} {event} FOR EACH ROW {when} BEGIN {body} END')


def _sq_backfill() -> str:
    task = _sq_task('t')
    step = {**{k: v for k, v in task.items() if k in ('day', 'module')}}
    return (
        f"INSERT INTO metric_rollups (kind, day, module, status, bucket, count, seconds, peak) "
        f"SELECT 'task', {task['day']}, {task['module']}, t.status, {task['bucket']}, count(*), "
        f"sum({task['seconds']}), NULL FROM workflow_tasks t GROUP BY 2, 3, 4, 5 "
        f"UNION ALL SELECT 'review', date(r.created_at), '', r.review_status, {NO_BUCKET}, count(*), 0.0, NULL "
        f"FROM reviews r GROUP BY 2, 4 "
        f"UNION ALL SELECT 'step', {step['day']}, {step['module']}, coalesce(e.step, ''), {NO_BUCKET}, count(*), "
        f"sum(e.duration_ms), max(e.duration_ms) FROM task_events e JOIN workflow_tasks t ON t.id = e.task_id "
        f"WHERE e.type = 'step_completed' AND e.duration_ms IS NOT NULL GROUP BY 2, 3, 4"
    )


# PostgreSQL -----------------------------------------------------------------------------------------

PG_TASK_KEY = f"""
    day := to_char(timezone('UTC', r.created_at), 'YYYY-MM-DD');
    module := coalesce(r.input_params ->> 'module_id', '');
    seconds := CASE WHEN r.status = 'completed' AND r.started_at IS NOT NULL AND r.completed_at IS NOT NULL
                    THEN extract(epoch FROM r.completed_at - r.started_at) END;
    bucket := CASE WHEN seconds IS NULL THEN {NO_BUCKET} ELSE floor(ln(greatest(seconds, 0.001)) / ln({BUCKET_BASE}))::integer
              END;
"""

PG_FUNCTIONS = f"""
CREATE FUNCTION rollup_add(k text, d text, m text, s text, b integer, n integer, secs double precision,
                           top double precision) RETURNS void LANGUAGE sql AS $$
    INSERT INTO metric_rollups AS x (kind, day, module, status, bucket, count, seconds, peak)
    VALUES (k, d, m, s, b, n, n * coalesce(secs, 0), top)
    ON CONFLICT ({KEY}) DO UPDATE SET count = x.count + excluded.count, seconds = x.seconds + excluded.seconds,
        peak = greatest(x.peak, excluded.peak)
$$;

CREATE FUNCTION rollup_task_key(r workflow_tasks, OUT day text, OUT module text, OUT bucket integer,
                                OUT seconds double precision) LANGUAGE plpgsql AS $$
BEGIN {PG_TASK_KEY} END $$;

CREATE FUNCTION rollup_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE o record; n record;
BEGIN
    IF TG_OP <> 'INSERT' THEN o := rollup_task_key(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN n := rollup_task_key(NEW); END IF;
    IF TG_OP = 'UPDATE' THEN
        IF (o.day, o.module, OLD.status, o.bucket, o.seconds) IS NOT DISTINCT FROM
           (n.day, n.module, NEW.status, n.bucket, n.seconds) THEN RETURN NULL; END IF;
        -- the two rows in one order, so that two status changes crossing each other cannot deadlock
        IF (o.day, o.module, OLD.status, o.bucket) > (n.day, n.module, NEW.status, n.bucket) THEN
            PERFORM rollup_add('task', n.day, n.module, NEW.status, n.bucket, 1, n.seconds, NULL);
            PERFORM rollup_add('task', o.day, o.module, OLD.status, o.bucket, -1, o.seconds, NULL);
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP <> 'INSERT' THEN PERFORM rollup_add('task', o.day, o.module, OLD.status, o.bucket, -1, o.seconds, NULL);
    END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM rollup_add('task', n.day, n.module, NEW.status, n.bucket, 1, n.seconds, NULL);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_reviews() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM rollup_add('review', to_char(timezone('UTC', NEW.created_at), 'YYYY-MM-DD'), '', NEW.review_status,
                           {NO_BUCKET}, 1, 0, NULL);
    ELSE
        PERFORM rollup_add('review', to_char(timezone('UTC', OLD.created_at), 'YYYY-MM-DD'), '', OLD.review_status,
                           {NO_BUCKET}, -1, 0, NULL);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_steps() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE e task_events; k record; t workflow_tasks; sign integer;
BEGIN
    IF TG_OP = 'INSERT' THEN e := NEW; sign := 1; ELSE e := OLD; sign := -1; END IF;
    IF e.type <> 'step_completed' OR e.duration_ms IS NULL THEN RETURN NULL; END IF;
    SELECT * INTO t FROM workflow_tasks WHERE id = e.task_id;
    IF NOT FOUND THEN RETURN NULL; END IF;  -- deleted with its task: the task's rollup went with it
    k := rollup_task_key(t);
    PERFORM rollup_add('step', k.day, k.module, coalesce(e.step, ''), {NO_BUCKET}, sign, e.duration_ms::double precision,
                       CASE WHEN sign = 1 THEN e.duration_ms::double precision END);
    RETURN NULL;
END $$;
"""


def _postgres_up() -> None:
    op.execute(PG_FUNCTIONS)
    op.execute(f"""
        INSERT INTO metric_rollups (kind, day, module, status, bucket, count, seconds, peak)
        SELECT 'task', k.day, k.module, t.status, k.bucket, count(*), coalesce(sum(k.seconds), 0), NULL::double precision
        FROM workflow_tasks t, LATERAL rollup_task_key(t) k GROUP BY 2, 3, 4, 5
        UNION ALL SELECT 'review', to_char(timezone('UTC', created_at), 'YYYY-MM-DD'), '', review_status, {NO_BUCKET},
                         count(*), 0, NULL FROM reviews GROUP BY 2, 4
        UNION ALL SELECT 'step', k.day, k.module, coalesce(e.step, ''), {NO_BUCKET}, count(*), sum(e.duration_ms),
                         max(e.duration_ms)
        FROM task_events e JOIN workflow_tasks t ON t.id = e.task_id, LATERAL rollup_task_key(t) k
        WHERE e.type = 'step_completed' AND e.duration_ms IS NOT NULL GROUP BY 2, 3, 4
    """)
    op.execute("CREATE TRIGGER rollup_workflow_tasks AFTER INSERT OR DELETE OR UPDATE OF status, created_at, "
               "started_at, completed_at, input_params ON workflow_tasks FOR EACH ROW EXECUTE FUNCTION rollup_tasks()")
    op.execute("CREATE TRIGGER rollup_reviews AFTER INSERT OR DELETE ON reviews FOR EACH ROW "
               "EXECUTE FUNCTION rollup_reviews()")
    op.execute("CREATE TRIGGER rollup_task_events AFTER INSERT OR DELETE ON task_events FOR EACH ROW "
               "EXECUTE FUNCTION rollup_steps()")
