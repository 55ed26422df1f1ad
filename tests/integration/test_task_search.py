"""The task list's free-text search runs through an index (migration 0016) and matches what a LIKE on the rows does."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Text, cast, delete, or_, select, text, update

from core import paging, service
from core.database import database, session_scope
from core.migrate import alembic_config
from core.service import tasks
from core.service.tasks import TASK_SEARCH
from db.models import TestCase, User, WorkflowTask
from db.types import utcnow

NAMES = ("用户注册接口测试", "注册 short", "Login FLOW", "login flow again", "order_total 100%", "orderXtotal",
         "Ärger mit Umlaut", "ärger klein", "C:\\temp")
SEARCHES = ("用户注册", "注册", "册", "LOGIN", "login flow", "order_total", "100%", "r_t", "ärger", "ÄRGER", "Um",
            "workflow_", "module_id", "name\": \"注", "nothing like it", "x", "\\t", ":\\")


def _add_tasks(names: tuple[str, ...], prefix: str = "search") -> list[int]:
    """Tasks with ``names``, straight into the table (the index triggers must follow any writer)."""
    now = utcnow()
    with session_scope() as session:
        user = session.scalar(select(User.id))
        case_id = session.scalar(select(TestCase.id))
        tasks = [WorkflowTask(thread_id=f"{prefix}-{index}", user_id=user, test_case_id=case_id,
                              input_params={"name": name, "module_id": "用户中心" if index % 2 else "orders"},
                              created_at=now, ranked_at=now)
                 for index, name in enumerate(names)]
        session.add_all(tasks)
        session.flush()
        return [task.id for task in tasks]


def _found(search: str) -> set[int]:
    return {item["id"] for item in service.list_tasks(search=search, limit=paging.MAX_PAGE)["items"]}


def _like_on_rows(search: str) -> set[int]:
    """The tasks whose thread id or input parameters' JSON text hold the search as typed, letter case aside.

    SQLAlchemy's own escaping (``icontains(autoescape=True)``): % and _ are characters, not wildcards.
    """
    with session_scope(read_only=True) as session:
        return set(session.scalars(select(WorkflowTask.id).where(
            or_(WorkflowTask.thread_id.icontains(search.strip(), autoescape=True),
                cast(WorkflowTask.input_params, Text).icontains(search.strip(), autoescape=True)))))


def _index_is_consistent() -> None:
    """SQLite: FTS5 compares its index with the rows (raises when they differ). PostgreSQL keeps its indexes itself."""
    if database().is_sqlite:
        with session_scope() as session:
            session.execute(text("INSERT INTO task_search (task_search, rank) VALUES ('integrity-check', 1)"))


def _assert_same_as_like() -> None:
    for search in SEARCHES:
        assert _found(search) == _like_on_rows(search), search


def test_search_finds_what_like_finds_chinese_short_and_wildcards_included(demo: dict[str, Any]) -> None:
    ids = _add_tasks(NAMES)
    _assert_same_as_like()
    assert _found("用户注册") == {ids[0]}
    assert _found("注册") == {ids[0], ids[1]}, "two characters: below a trigram, LIKE on the rows"
    assert _found("LOGIN FLOW") == {ids[2], ids[3]}
    assert _found("order_total") == {ids[4]}, "_ is the character: orderXtotal is not found"
    assert _found("100%") == {ids[4]} and _found("r_t") == {ids[4]}
    assert _found("\\t") == {ids[8]}, "a backslash is a character too (PostgreSQL's default LIKE escape)"
    assert _found("用户中心") == set(ids[1::2]), "the module in the input parameters"
    assert _found("nothing like it") == set()


def test_a_search_past_the_count_cap_pages_as_like_does(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the cap the page reads the newest rows; under it, the index's candidates: the same tasks, in order."""
    _add_tasks(NAMES * 3)
    for cap in (2, 100):
        monkeypatch.setattr(tasks, "SEARCH_COUNT_CAP", cap)
        for search in SEARCHES:
            page = service.list_tasks(search=search, limit=4)
            expected = sorted(_like_on_rows(search), reverse=True)  # created at once: newest first is id order
            assert [item["id"] for item in page["items"]] == expected[:4], (cap, search)
            assert (page["total"], page["total_capped"]) == (min(len(expected), cap), len(expected) > cap)


def test_the_index_follows_inserts_updates_and_deletes(demo: dict[str, Any]) -> None:
    ids = _add_tasks(NAMES)
    with session_scope() as session:
        session.execute(update(WorkflowTask).where(WorkflowTask.id == ids[0])
                        .values(input_params={"name": "重命名的任务", "module_id": "orders"}))
        session.execute(update(WorkflowTask).where(WorkflowTask.id == ids[2]).values(thread_id="renamed-thread-2"))
        session.execute(update(WorkflowTask).where(WorkflowTask.id == ids[3]).values(status="completed"))
        session.execute(delete(WorkflowTask).where(WorkflowTask.id == ids[6]))
    _index_is_consistent()
    assert _found("用户注册接口") == set()
    assert _found("重命名的") == {ids[0]}
    assert _found("renamed-thread") == {ids[2]}
    assert _found("login flow again") == {ids[3]}, "a change of other columns keeps the row found"
    assert _found("Umlaut") == set()
    more = _add_tasks(("用户注册 again",), prefix="more")
    assert _found("用户注册") == set(more)
    _assert_same_as_like()


def test_a_search_can_use_the_index(demo: dict[str, Any]) -> None:
    """The plan of a search of three characters or more reads the index, not every row."""
    _add_tasks(NAMES)
    term = paging.search_term("用户注册")
    with session_scope(read_only=True) as session:
        if database().is_sqlite:
            query = (select(WorkflowTask.id).join(TASK_SEARCH, TASK_SEARCH.c.rowid == WorkflowTask.id)
                     .where(tasks._indexed(term)))
            compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "VIRTUAL TABLE INDEX 0:M" in plan, plan
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(session.scalars(text(
                "EXPLAIN SELECT id FROM workflow_tasks WHERE thread_id ILIKE :t OR CAST(input_params AS TEXT) ILIKE :t"
            ), {"t": f"%{term}%"}))
            assert "idx_workflow_tasks_input_params_trgm" in plan and "idx_workflow_tasks_thread_id_trgm" in plan, plan


def test_the_migration_indexes_the_rows_there_are_and_downgrades(demo: dict[str, Any]) -> None:
    _add_tasks(NAMES)
    config = alembic_config()
    with database().engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
        assert not _search_objects(connection)
        command.upgrade(config, "head")  # 0016 made them; the later migrations keep them
        assert _search_objects(connection)
    _index_is_consistent()
    _assert_same_as_like()


def _search_objects(connection: Connection) -> set[str]:
    """The search's table and triggers (SQLite) or indexes (PostgreSQL) in the database."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE name LIKE 'task_search%'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'"
    return set(connection.scalars(text(query)))


def _segments() -> int:
    """The FTS5 index's segments (its %_idx table holds a row per segment and leaf page)."""
    with session_scope(read_only=True) as session:
        return int(session.scalar(text("SELECT count(DISTINCT segid) FROM task_search_idx")) or 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # FTS5; PostgreSQL's trigram indexes are GIN
def test_starts_leave_the_index_merging_to_the_background_and_it_merges(demo) -> None:
    """A commit that adds a task merges no segments of the index (at 200,000 tasks that was one start in a
    hundred waiting 15-40 ms); the process's background pass merges them, and every task is still found."""
    checkpointer = database().checkpointer
    assert checkpointer is not None
    with database().checkpoints_paused():
        before = _segments()
        added = [_add_tasks((f"背景合并 {index}",), prefix=f"merge-{index}")[0] for index in range(12)]
        assert _segments() == before + 12, "each commit left its segment unmerged"
    assert checkpointer.wait_for_pass()
    assert _segments() < before + 12
    assert _found("背景合并") == set(added) == _like_on_rows("背景合并")
