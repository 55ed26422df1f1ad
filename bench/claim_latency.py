"""Claim latency on PostgreSQL with and without LISTEN/NOTIFY: `python -m bench.claim_latency [--tasks N]`.

A worker process (one slot, POLL_SECONDS as configured, 2 s by default) is idle; this
process starts a task, waits until it is claimed, and repeats. The latency is the task's
``started_at - created_at`` as the database recorded it. Prints JSON; a report only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.backends import BENCH_PASSWORD, BENCH_USER
from bench.timing import summarise
from core import service
from testing.postgres import start_cluster
from testing.process import release

ROOT = Path(__file__).resolve().parent.parent
PAUSE_SECONDS = 0.3  # between one claim and the next start, so starts fall anywhere in the poll interval


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.claim_latency")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--poll-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    cluster = start_cluster()
    try:
        results = {mode: _measure(cluster, args.tasks, args.poll_seconds, notify=mode == "listen_notify")
                   for mode in ("poll_only", "listen_notify")}
    finally:
        release()
        cluster.stop()
    print(json.dumps({"poll_seconds": args.poll_seconds, "tasks": args.tasks, "claim_latency_ms": results}, indent=2))
    return 0


def _measure(cluster: Any, tasks: int, poll_seconds: float, *, notify: bool) -> dict[str, float]:
    url = cluster.create_database(f"b_{uuid.uuid4().hex[:10]}")
    settings = {"DATABASE_URL": url, "POLL_SECONDS": str(poll_seconds), "PG_NOTIFY": str(notify).lower(),
                "METRICS_PORT": "0"}
    os.environ.update(settings)
    release()
    service.setup(None)
    service.create_user(BENCH_USER, "engineer", BENCH_PASSWORD)
    case = service.list_test_cases(limit=1)["items"][0]
    worker = subprocess.Popen([sys.executable, "-m", "core", "worker", "--concurrency", "1"], cwd=ROOT,
                              env={**os.environ, **settings}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        worker.stdout.readline()  # started
        latencies = [_one(case["id"], case["scene_id"]) for _ in range(tasks)]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        release()
    return summarise(latencies)


def _one(case_id: int, scene_id: str) -> float:
    """Milliseconds from the start of one task to its claim."""
    task_id = service.start_workflow(case_id, scene_id, user=BENCH_USER)["task_id"]
    while (task := service.get_task(task_id))["started_at"] is None:
        time.sleep(0.01)
    time.sleep(PAUSE_SECONDS)
    return _ms(task["created_at"], task["started_at"])


def _ms(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() * 1000


if __name__ == "__main__":
    sys.exit(main())
