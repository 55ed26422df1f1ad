"""Makespan: TASKS tasks with a model that takes 0.5 s per call, on one worker process and on two.

For each executor, on a migrated PostgreSQL database: the polling worker (`python -m core worker`, woken
by LISTEN/NOTIFY) and Celery over a real redis-server (`python -m core celery-worker`). Workers are real
processes with CONCURRENCY slots each and the offline provider behind AI_LATENCY_SECONDS=0.5; this
process starts the tasks through ``core.service`` and approves each as soon as it awaits review.

One task alone first: its time from start to completed, approval included, is the unit. The ideal
makespan of TASKS tasks on n slots is ceil(TASKS / n) units; reported are makespan / ideal (1.0 is
perfect) and the rate of two workers over one.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench.backends import BENCH_PASSWORD, configure, demo_cases, prepare
from bench.throughput import drive, start_task
from core import service
from testing.redis_server import start_redis

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin"
CONCURRENCY = 4
MODEL_SECONDS = "0.5"
POLL_SECONDS = 0.05
"""How often this process looks for tasks to approve (the workers keep their default poll)."""
EXECUTORS = ("worker", "celery")


def run(url: str, tasks: int) -> dict[str, Any]:
    """{executor: {unit_seconds, one: {...}, two: {...}, speedup}} on the fresh database at ``url``."""
    prepare(url)
    service.create_user(ADMIN, "admin", BENCH_PASSWORD)
    results: dict[str, Any] = {"tasks": tasks, "concurrency": CONCURRENCY, "model_seconds": float(MODEL_SECONDS)}
    for executor in EXECUTORS:
        with _executor(url, executor) as settings:
            results[executor] = _phases(url, tasks, settings)
    return results


@contextmanager
def _executor(url: str, executor: str) -> Iterator[dict[str, str]]:
    """The settings of this process and its workers for ``executor``; a redis-server meanwhile for Celery."""
    with ExitStack() as stack:
        settings = {"DATABASE_URL": url, "AI_PROVIDER": "offline", "AI_LATENCY_SECONDS": MODEL_SECONDS,
                    "WORKER_CONCURRENCY": str(CONCURRENCY), "METRICS_PORT": "0", "TASK_EXECUTOR": "apscheduler"}
        if executor == "celery":
            redis = start_redis()
            stack.callback(redis.stop)
            settings.update(TASK_EXECUTOR="celery", REDIS_URL=redis.url())
        configure(url, **{key: value for key, value in settings.items() if key != "DATABASE_URL"})
        yield settings


def _phases(url: str, tasks: int, settings: dict[str, str]) -> dict[str, Any]:
    cases = demo_cases()
    timeout = 120 + tasks * 10
    with _workers(settings, 1):
        unit = _makespan(cases, 1, timeout)["seconds"]
        one = _makespan(cases, tasks, timeout)
    with _workers(settings, 2):
        two = _makespan(cases, tasks, timeout)
    for phase, workers in ((one, 1), (two, 2)):
        phase["ideal_seconds"] = math.ceil(tasks / (workers * CONCURRENCY)) * unit
        phase["over_ideal"] = phase["seconds"] / phase["ideal_seconds"]
    return {"unit_seconds": unit, "one": one, "two": two, "speedup": one["seconds"] / two["seconds"]}


def _makespan(cases: list[tuple[int, str]], tasks: int, timeout: float) -> dict[str, Any]:
    began = time.perf_counter()
    outcome = drive([start_task(cases, index) for index in range(tasks)], POLL_SECONDS, timeout)
    return {"seconds": time.perf_counter() - began, **outcome}


@contextmanager
def _workers(settings: dict[str, str], count: int) -> Iterator[None]:
    """``count`` worker processes for the executor, each with CONCURRENCY slots, registered before it yields."""
    command = ["celery-worker", "--concurrency", str(CONCURRENCY)] if settings["TASK_EXECUTOR"] == "celery" else [
        "worker"]
    env = {**os.environ, **settings}
    before = _alive()
    processes = [subprocess.Popen([sys.executable, "-m", "core", *command], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
    try:
        deadline = time.monotonic() + 120
        while _alive() < before + count:
            if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
                raise RuntimeError(f"{count} {command[0]} process(es) did not start")
            time.sleep(0.2)
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        deadline = time.monotonic() + 30
        while _alive() > before and time.monotonic() < deadline:  # stopped workers say so
            time.sleep(0.2)


def _alive() -> int:
    alive: int = service.system_overview(user=ADMIN)["workers"]["alive"]
    return alive

