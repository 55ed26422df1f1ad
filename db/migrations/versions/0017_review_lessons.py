"""reviews remember what the reviewer changed (learning from reviews), rolled up per scene and provider

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 10:00:00.000000

Each review keeps its task's scene and the provider that wrote the rows, whether the reviewer edited
them, and the edits themselves (core.library.review_lessons). Triggers keep one more rollup kind,
"round": module = the scene, status = the provider, bucket = 1 for a round approved without edits,
0 otherwise, so the metrics page reads the share of rounds approved as generated without scanning
every review. Older reviews get their scene from the task and count as edited when they carried a
corrected body or setup.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "kind, day, module, status, bucket"
UNEDITED = "CASE WHEN {0}.review_status = 'approved' AND NOT {0}.edited THEN 1 ELSE 0 END"


def upgrade() -> None:
    """Plain ADD COLUMNs (no table copy on SQLite), a backfill, and the "round" rollups."""
    op.add_column('reviews', sa.Column('scene_id', sa.String(length=100), nullable=True))
    op.add_column('reviews', sa.Column('provider', sa.String(length=50), nullable=True))
    op.add_column('reviews', sa.Column('edited', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('reviews', sa.Column('edits', sa.JSON(), nullable=True))
    op.create_index(op.f('ix_reviews_scene_id'), 'reviews', ['scene_id'], unique=False)
    sqlite = op.get_bind().dialect.name == 'sqlite'
    scene = ("json_extract(t.input_params, '$.scene_id')" if sqlite else "t.input_params ->> 'scene_id'")
    op.execute(f"UPDATE reviews SET edited = (corrected_body IS NOT NULL OR corrected_setup IS NOT NULL), "
               f"scene_id = (SELECT {scene} FROM workflow_tasks t WHERE t.id = reviews.task_id)")
    day = "date(r.created_at)" if sqlite else "to_char(timezone('UTC', r.created_at), 'YYYY-MM-DD')"
    op.execute(f"INSERT INTO metric_rollups (kind, day, module, status, bucket, count, seconds, peak) "
               f"SELECT 'round', {day}, coalesce(r.scene_id, ''), coalesce(r.provider, ''), {UNEDITED.format('r')}, "
               f"count(*), 0.0, NULL FROM reviews r GROUP BY 2, 3, 4, 5")
    if sqlite:
        for name, event, row, sign in (('insert', 'INSERT', 'NEW', 1), ('delete', 'DELETE', 'OLD', -1)):
            op.execute(
                f"CREATE TRIGGER rollup_rounds_{name} AFTER {event} ON reviews FOR EACH ROW BEGIN "
                f"INSERT INTO metric_rollups (kind, day, module, status, bucket, count, seconds, peak) VALUES "
                f"('round', date({row}.created_at), coalesce({row}.scene_id, ''), coalesce({row}.provider, ''), "
                f"{UNEDITED.format(row)}, {sign}, 0.0, NULL) "
                f"ON CONFLICT ({KEY}) DO UPDATE SET count = count + excluded.count; END")
        return
    op.execute(f"""
        CREATE FUNCTION rollup_rounds() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE r reviews; sign integer;
        BEGIN
            IF TG_OP = 'INSERT' THEN r := NEW; sign := 1; ELSE r := OLD; sign := -1; END IF;
            PERFORM rollup_add('round', to_char(timezone('UTC', r.created_at), 'YYYY-MM-DD'), coalesce(r.scene_id, ''),
                               coalesce(r.provider, ''), {UNEDITED.format('r')}, sign, 0, NULL);
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER rollup_rounds AFTER INSERT OR DELETE ON reviews FOR EACH ROW "
               "EXECUTE FUNCTION rollup_rounds()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS rollup_rounds_insert')
        op.execute('DROP TRIGGER IF EXISTS rollup_rounds_delete')
    else:
        op.execute('DROP TRIGGER IF EXISTS rollup_rounds ON reviews')
        op.execute('DROP FUNCTION IF EXISTS rollup_rounds()')
    op.execute("DELETE FROM metric_rollups WHERE kind = 'round'")
    op.drop_index(op.f('ix_reviews_scene_id'), table_name='reviews')
    for column in ('edits', 'edited', 'provider', 'scene_id'):
        op.drop_column('reviews', column)
