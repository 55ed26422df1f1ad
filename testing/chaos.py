"""A chaos run: workers SIGKILLed at random, PostgreSQL restarted, a flaky AI provider, reviews as they arrive.

Used by the test suite in a short form (tests/integration/test_chaos.py) and by the
benchmarks in a long one (bench/chaos.py, figures in docs/reliability.md). It drives the
product the way its users and operators do: tasks started and reviewed through the service
door, worker processes started with ``python -m core worker``. Then it audits the database:
every task should be completed, with exactly one automation case, one checkpoint history
without forks (checked while each task waits for review: a finished thread keeps only its last
checkpoint), and no approved review lost.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from core import service
from core.database import database, session_scope
from core.workflow.checkpointer import get_saver
from core.workflow.graph import thread_config
from db.models import AutomationCase, Review, WorkflowTask
from testing.fake_openai import running
from testing.postgres import Cluster
from testing.process import release

ROOT = Path(__file__).resolve().parents[1]
TERMINAL = {"completed", "failed", "cancelled"}


@dataclass(frozen=True, kw_only=True)
class Plan:
    tasks: int = 24
    workers: int = 2
    concurrency: int = 4
    kills: int = 3
    restarts: tuple[str, ...] = ("fast", "immediate")
    """PostgreSQL restarts, in order, by pg_ctl mode."""
    ai_fault_rate: float = 0.3
    reject_share: float = 0.25
    """Tasks whose first review is a rejection."""
    seed: int = 1
    timeout_seconds: float = 300
    lease_seconds: int = 3


@dataclass(kw_only=True)
class Report:
    tasks: int
    completed: int = 0
    failed: dict[int, str] = field(default_factory=dict)
    stuck: dict[int, str] = field(default_factory=dict)
    duplicate_cases: int = 0
    forked: set[str] = field(default_factory=set)
    """The threads whose checkpoint history forked."""
    lost_reviews: int = 0
    review_conflicts: int = 0
    kills: int = 0
    restarts: int = 0
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return (self.completed == self.tasks and not self.failed and not self.stuck and not self.duplicate_cases
                and not self.forked and not self.lost_reviews)

    @property
    def forked_threads(self) -> int:
        return len(self.forked)


def run(plan: Plan, cluster: Cluster, db_url: str, reviewer: str, cases: list[tuple[int, str]]) -> Report:
    """Runs ``plan`` against the migrated database at ``db_url`` (demo data and ``reviewer`` present)."""
    rng = random.Random(plan.seed)
    logs = Path(tempfile.mkdtemp(prefix="caseflow-chaos-"))
    with running(fault_rate=plan.ai_fault_rate, seed=plan.seed) as fake:
        env = _worker_env(plan, db_url, fake.url)
        workers = [_start_worker(env, plan.concurrency, logs / f"worker-{n}.log") for n in range(plan.workers)]
        started = time.monotonic()
        try:
            ids = [service.start_workflow(*cases[n % len(cases)], name=f"chaos {n}", user=reviewer)["task_id"]
                   for n in range(plan.tasks)]
            rejected = set(rng.sample(ids, round(plan.reject_share * len(ids))))
            report = Report(tasks=len(ids))
            faults = _schedule(plan, rng)
            while time.monotonic() - started < plan.timeout_seconds:
                elapsed = time.monotonic() - started
                while faults and faults[0][0] <= elapsed:
                    _, fault = faults.pop(0)
                    _inject(fault, workers, env, plan, cluster, rng, logs, report)
                if _settled(ids, rejected, reviewer, report) and not faults:
                    break
                time.sleep(0.2)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                _wait(worker)
    report.seconds = round(time.monotonic() - started, 1)
    release()  # this process's connections may predate a restart
    _audit(ids, report)
    return report


def _worker_env(plan: Plan, db_url: str, ai_url: str) -> dict[str, str]:
    return {
        **os.environ, "DATABASE_URL": db_url, "POLL_SECONDS": "0.2", "LEASE_SECONDS": str(plan.lease_seconds),
        "OPENAI_API_KEY": "sk-chaos", "OPENAI_BASE_URL": ai_url, "AI_TIMEOUT_SECONDS": "1",
        "AI_BACKOFF_SECONDS": "0.05", "AI_BACKOFF_MAX_SECONDS": "0.2", "RETRY_BASE_SECONDS": "0.2",
        "RETRY_MAX_SECONDS": "2", "RETRY_BUDGET_SECONDS": "120", "MAX_ATTEMPTS": "5",
    }


def _start_worker(env: dict[str, str], concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-m", "core", "worker", "--concurrency", str(concurrency)],
                                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def _wait(worker: subprocess.Popen[bytes]) -> None:
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)


def _schedule(plan: Plan, rng: random.Random) -> list[tuple[float, str]]:
    """When each fault strikes: spread over the first part of the run, in random order."""
    faults = ["kill"] * plan.kills + [f"restart:{mode}" for mode in plan.restarts]
    window = max(plan.tasks * 0.25, 6.0)
    return sorted((rng.uniform(1.0, window), fault) for fault in faults)


def _inject(fault: str, workers: list[subprocess.Popen[bytes]], env: dict[str, str], plan: Plan,
            cluster: Cluster, rng: random.Random, logs: Path, report: Report) -> None:
    if fault == "kill":
        index = rng.randrange(len(workers))
        workers[index].send_signal(signal.SIGKILL)
        workers[index].wait(timeout=10)
        workers[index] = _start_worker(env, plan.concurrency, logs / f"worker-{index}.log")
        report.kills += 1
    else:
        cluster.restart(fault.split(":", 1)[1])
        report.restarts += 1


def _settled(ids: list[int], rejected: set[int], reviewer: str, report: Report) -> bool:
    """Reviews what waits (a rejection first for the tasks in ``rejected``); True once every task is terminal."""
    try:
        waiting = service.list_tasks(status="reviewing", limit=service.MAX_PAGE)["items"]
        saver = get_saver(database())
        for item in waiting:
            task = service.get_task(item["id"])
            if _forked(saver, task["thread_id"]):
                report.forked.add(task["thread_id"])
            round_ = task["interrupt_data"]["round"]
            reject = task["id"] in rejected and round_ == 1
            try:
                service.submit_review(task["thread_id"], "rejected" if reject else "approved",
                                      feedback="more boundary rows" if reject else "", reviewer=reviewer,
                                      expected_round=round_)
            except service.Conflict:
                report.review_conflicts += 1
        counts = service.task_counts()
    except Exception:  # PostgreSQL is restarting: try again at the next tick
        return False
    return sum(counts[status] for status in TERMINAL) >= len(ids)


def _audit(ids: list[int], report: Report) -> None:
    with session_scope(read_only=True) as session:
        tasks = session.execute(select(WorkflowTask.id, WorkflowTask.status, WorkflowTask.error_message,
                                       WorkflowTask.thread_id).where(WorkflowTask.id.in_(ids))).all()
        cases = {task_id: count for task_id, count in session.execute(
            select(AutomationCase.task_id, func.count()).group_by(AutomationCase.task_id))}
        approved = set(session.scalars(select(Review.task_id).where(Review.review_status == "approved")))
    saver = get_saver(database())
    for task_id, status, error, thread_id in tasks:
        if status == "completed":
            report.completed += 1
        elif status == "failed":
            report.failed[task_id] = error or ""
        else:
            report.stuck[task_id] = status
        report.duplicate_cases += max(cases.get(task_id, 0) - 1, 0)
        report.lost_reviews += task_id in approved and status != "completed"
        if _forked(saver, thread_id):  # a finished thread has one checkpoint left: forks show before review
            report.forked.add(thread_id)


def _forked(saver: Any, thread_id: str) -> bool:
    """Whether a checkpoint of the thread has two children: two runs wrote after the same checkpoint."""
    children = collections.Counter(
        c.parent_config["configurable"]["checkpoint_id"] for c in saver.list(thread_config(thread_id))
        if c.parent_config
    )
    return bool(children) and max(children.values()) > 1
