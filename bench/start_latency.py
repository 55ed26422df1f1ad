"""How long core.service.start_workflow takes to queue a task (the specification allows 500 ms)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from bench.backends import BENCH_USER, demo_cases
from bench.timing import sample, summarise
from core import service

BUDGET_MS = 500
REFRESH_SECONDS = 2  # how often pages/tasks.py reloads its table
PACE_SECONDS = 0.1  # between starts while the page refreshes, so that the calls spread over many refreshes


def measure(calls: int, warmup: int, pause: float = 0.0) -> dict[str, float]:
    """Summary of ``calls`` sequential starts, cycling through the demo test cases and every priority."""
    cases = demo_cases()

    def start(index: int) -> None:
        case_id, scene_id = cases[index % len(cases)]
        service.start_workflow(case_id, scene_id, priority=index % 10, user=BENCH_USER)

    return summarise(sample(start, calls, warmup, pause))


def measure_while_listing(calls: int, warmup: int, listing: dict[str, Any]) -> dict[str, float]:
    """Starts, ten a second, while another thread calls ``list_tasks(**listing)`` as an open Tasks page does."""
    with _every(REFRESH_SECONDS, partial(service.list_tasks, **listing)):
        return measure(calls, warmup, PACE_SECONDS)


@contextmanager
def _every(seconds: float, call: Callable[[], Any]) -> Iterator[None]:
    """Calls ``call`` on a thread of its own, then again ``seconds`` after each call ends, until the block ends."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            call()
            stop.wait(seconds)

    thread = threading.Thread(target=loop, name="bench-tasks-page", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
