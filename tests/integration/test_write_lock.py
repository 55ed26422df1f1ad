"""A step that takes its time must not hold the database's write lock (SQLite has one for the whole file)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from core import service
from core.database import database
from core.tasks.worker import Worker
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene


class Pause:
    """Holds the first task-thread statement that reads ``table`` until released: a step caught mid-read."""

    def __init__(self, table: str) -> None:
        self.needle = f"FROM {table}"
        self.reached = threading.Event()
        self.released = threading.Event()

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.needle not in statement or threading.current_thread() is threading.main_thread():
            return
        if not self.reached.is_set():
            self.reached.set()
            self.released.wait(60)


@pytest.fixture
def paused_step_1(db_url: str) -> Iterator[Pause]:
    """Step 1 (load_inputs) of the next task stops when it reads the test case."""
    pause = Pause("test_cases")
    engine = database().engine
    event.listen(engine, "before_cursor_execute", pause)
    yield pause
    pause.released.set()
    event.remove(engine, "before_cursor_execute", pause)


def test_heartbeat_and_polls_go_on_while_a_step_reads_its_inputs(demo, users, paused_step_1: Pause) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    worker = Worker()
    worker.start()
    try:
        assert paused_step_1.reached.wait(30), "the task never started step 1"
        worker.heartbeat()  # waited SQLite's busy timeout and failed "database is locked" while step 1 ran
        assert service.get_task(task_id)["status"] == "processing"
        service.start_workflow(case_id, scene_id, user=users["engineer"])  # another write
        paused_step_1.released.set()
        wait_for(task_id, "reviewing")
    finally:
        worker.stop()
