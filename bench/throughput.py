"""Workflows per second through the task machinery against bare graph.invoke, and the process's peak RSS."""

from __future__ import annotations

import logging
import resource
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

from langgraph.types import Command
from sqlalchemy import Row, select

from bench.backends import BENCH_USER, configure, demo_cases
from core import service
from core.config import get_settings
from core.database import database, session_scope
from core.tasks.runner import workflow_context
from core.tasks.worker import Worker
from core.workflow.checkpointer import get_saver
from core.workflow.graph import build_graph, thread_config
from core.workflow.state import Decision, WorkflowState
from db.models import TaskStatus, WorkflowTask

CONCURRENCY = 2
WARMUP_TASKS = 2
TERMINAL = {s.value for s in TaskStatus.terminal()}


def run(url: str, tasks: int, poll_seconds: float) -> dict[str, Any]:
    """Both phases on the migrated database at ``url``, in a fresh process so that its peak RSS is this run's.

    First ``tasks`` tasks go through the service and a real Worker (approved as soon as they reach
    review), then ``tasks`` more through graph.invoke alone, to the interrupt and on to the end.
    """
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: maximum number of running instances"
    configure(url, POLL_SECONDS=str(poll_seconds), WORKER_CONCURRENCY=str(CONCURRENCY), LEASE_SECONDS="60")
    timeout = 60 + tasks * 5
    cases = demo_cases()
    rss_start = _peak_rss_mb()
    worker = through_worker(cases, tasks, poll_seconds, timeout)
    rss_worker = _peak_rss_mb()
    bare = _bare_graph(cases, tasks)
    return {
        "tasks": tasks, "concurrency": CONCURRENCY, "poll_seconds": poll_seconds, "worker": worker, "bare": bare,
        "ratio": worker["per_second"] / bare["per_second"] if bare["per_second"] else None,
        "peak_rss_mb": {"before": rss_start, "after_worker": rss_worker, "after_bare": _peak_rss_mb()},
    }


def through_worker(cases: list[tuple[int, str]], tasks: int, poll_seconds: float, timeout: float) -> dict[str, Any]:
    """Starts ``tasks`` tasks through the service and drives them to the end with a real Worker."""
    worker = Worker()
    worker.start()
    try:
        drive([start_task(cases, index) for index in range(WARMUP_TASKS)], poll_seconds, timeout)
        began = time.perf_counter()
        outcome = drive([start_task(cases, index) for index in range(tasks)], poll_seconds, timeout)
        seconds = time.perf_counter() - began
    finally:
        worker.stop()
    return {"seconds": seconds, "per_second": outcome["completed"] / seconds, **outcome}


def start_task(cases: list[tuple[int, str]], index: int) -> int:
    case_id, scene_id = cases[index % len(cases)]
    task_id: int = service.start_workflow(case_id, scene_id, user=BENCH_USER)["task_id"]
    return task_id


def drive(task_ids: list[int], poll_seconds: float, timeout: float) -> dict[str, int]:
    """Approves each task as soon as it awaits review, until every task has ended (or ``timeout`` passed)."""
    deadline = time.monotonic() + timeout
    waiting, ended = set(task_ids), Counter[str]()
    while waiting and time.monotonic() < deadline:
        with session_scope() as session:
            rows = session.execute(
                select(WorkflowTask.id, WorkflowTask.status, WorkflowTask.thread_id).where(WorkflowTask.id.in_(waiting))
            ).all()
        for task_id, status, thread_id in rows:
            if status == TaskStatus.REVIEWING.value:
                service.submit_review(thread_id, "approved", reviewer=BENCH_USER)
            elif status in TERMINAL:
                waiting.discard(task_id)
                ended[status] += 1
        if waiting:
            time.sleep(poll_seconds)
    return {"completed": ended["completed"], "not_completed": len(task_ids) - ended["completed"]}


def _bare_graph(cases: list[tuple[int, str]], tasks: int) -> dict[str, Any]:
    """The same graph, saver and context as core.runner.TaskRunner, with nothing around graph.invoke.

    The tasks' rows exist (step 10 links the automation case to its task) but no worker runs: they stay
    pending while the graph runs them on ``CONCURRENCY`` threads, as the worker's slots would.
    """
    settings = get_settings()
    graph = build_graph(get_saver(database(), pool_size=settings.worker_concurrency + 1))
    context = workflow_context(settings)
    task_ids = [start_task(cases, index) for index in range(tasks)]
    with session_scope() as session:
        inputs = session.execute(
            select(WorkflowTask.id, WorkflowTask.thread_id, WorkflowTask.input_params)
            .where(WorkflowTask.id.in_(task_ids))
        ).all()

    def invoke(task: Row[Any]) -> str | None:
        config: Any = thread_config(task.thread_id)
        start = cast(WorkflowState, {"task_id": task.id, **task.input_params})  # as core.runner.TaskRunner does
        paused = graph.invoke(start, config, context=context, durability="sync")
        review = paused["__interrupt__"][0].value
        decision = Decision(review_status="approved", rows=None, feedback="", reviewer=BENCH_USER,
                            round=review["round"])
        done = graph.invoke(Command(resume=decision), config, context=context, durability="sync")
        outcome: str | None = done.get("outcome")
        return outcome

    began = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        outcomes = Counter(pool.map(invoke, inputs))
    seconds = time.perf_counter() - began
    completed = outcomes["created"]
    return {"seconds": seconds, "per_second": completed / seconds, "completed": completed,
            "not_completed": tasks - completed}


def _peak_rss_mb() -> float:
    """This process's peak resident set so far, in MiB: VmHWM where Linux has it, else ru_maxrss.

    On Linux, ru_maxrss survives fork and exec, so a child's starts at its parent's RSS (ours, after
    hashing the benchmark users' passwords with argon2, is larger than this run's); VmHWM is this
    process's own.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
