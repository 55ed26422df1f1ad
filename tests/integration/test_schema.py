"""The schema: migrations match the models on each backend; the specification's columns; UTC times."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from core.database import database, session_scope
from core.tasks import events
from db.models import Base, WorkflowTask, own_tables_only
from tests.support.cases import first_case_and_scene

SEED_COLUMNS = {
    "id", "thread_id", "task_type", "user_id", "test_case_id", "status", "current_step", "progress",
    "input_params", "result_data", "error_message", "need_review", "interrupt_data", "new_usercase_id",
    "created_case", "created_at", "started_at", "completed_at", "updated_at",
}


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_migrations_build_exactly_the_models(db_url: str) -> None:
    """SQLite cannot reflect the lower(username) index (Alembic skips it, warning); PostgreSQL compares it."""
    with database().engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": own_tables_only})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_workflow_tasks_has_the_specifications_columns_and_indexes(db_url: str) -> None:
    inspector = inspect(database().engine)
    columns = {c["name"] for c in inspector.get_columns("workflow_tasks")}
    assert SEED_COLUMNS <= columns
    assert {"priority", "attempts", "claims", "lease_owner", "lease_expires_at"} <= columns
    indexes = {i["name"] for i in inspector.get_indexes("workflow_tasks")}
    assert {"idx_workflow_tasks_thread_id", "idx_workflow_tasks_user_id", "idx_workflow_tasks_status"} <= indexes
    savers = {True: {"checkpoints", "writes"}, False: {"checkpoints", "checkpoint_writes", "checkpoint_blobs"}}
    assert savers[database().is_sqlite] <= set(inspector.get_table_names()), "the backend's saver made its tables"


def test_times_come_back_timezone_aware_in_utc(demo, users) -> None:
    from core import service

    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    with session_scope() as session:
        created = session.get(WorkflowTask, task_id).created_at
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0
    assert service.get_task(task_id)["created_at"].endswith("Z")


def test_a_psycopg3_url_runs_the_workflow_too(pg_cluster, monkeypatch) -> None:
    import uuid

    from core import migrate, service
    from core.accounts.users import create_user
    from core.library import demo_data
    from core.tasks.worker import in_process_worker, stop_in_process_worker
    from tests.conftest import TEST_PASSWORD, configure, wait_for

    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name).replace("+psycopg2", "+psycopg")
    configure(monkeypatch, url)
    try:
        migrate.upgrade()
        assert database().engine.dialect.driver == "psycopg"
        create_user("alice", "engineer", TEST_PASSWORD)
        demo_data.load()
        in_process_worker()
        task_id = service.start_workflow(1, "SC001", user="alice")["task_id"]
        assert wait_for(task_id, "reviewing")["progress"] == 80
    finally:
        stop_in_process_worker()
        configure(monkeypatch, "sqlite://")
        pg_cluster.drop_database(name)


def test_the_waiting_reviews_are_read_from_their_index_alone(db_url: str) -> None:
    """SQLite plans without statistics: the reviews waiting must not read every reviewing task's large row."""
    if not database().is_sqlite:
        pytest.skip("PostgreSQL plans from the statistics autovacuum keeps")
    requests = events.review_requests()
    query = select(func.min(requests.c.asked), func.count())
    with session_scope(read_only=True) as session:
        compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "COVERING INDEX idx_workflow_tasks_review_asked" in plan, plan
