"""Model calls and tokens per case: every demo test case through the OpenAI-compatible provider.

The model is tests/support/fake_openai.py, a real local HTTP server that answers as a perfect
model would (the offline provider computes its answers), with token counts from the size of
each request and reply. Run it as `python -m bench.ai_usage`.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run() -> dict[str, Any]:
    """{cases, per_case: {calls, prompt_tokens, completion_tokens}, by_step: {step: calls}}, on SQLite."""
    from bench import backends
    from core import service
    from core.tasks import ai_calls
    from core.tasks.worker import Worker
    from testing.fake_openai import running

    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "dispatch skipped" at a 50 ms poll
    with tempfile.TemporaryDirectory() as directory, running() as fake:
        url = f"sqlite:///{Path(directory) / 'ai.db'}"
        backends.prepare(url)
        backends.configure(url, AI_PROVIDER="openai", OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=fake.url,
                           OPENAI_MODEL="gpt-4o-mini", POLL_SECONDS="0.05")
        worker = Worker()
        worker.start()
        try:
            tasks = [service.start_workflow(case_id, scene_id, user=backends.BENCH_USER)["task_id"]
                     for case_id, scene_id in backends.demo_cases()]
            for task_id in tasks:
                task = _wait(task_id, "reviewing")
                service.submit_review(task["thread_id"], "approved", reviewer=backends.BENCH_USER, wait_seconds=60)
            usage = ai_calls.usage_summary()
            steps = [call["step"] for task_id in tasks for call in ai_calls.calls_for_task(task_id)]
        finally:
            worker.stop()
            backends.release()
    return {
        "cases": usage["completed_cases"],
        "per_case": {key: usage[key] for key in ("calls_per_case", "prompt_tokens_per_case",
                                                 "completion_tokens_per_case", "tokens_per_case", "cost_per_case")},
        "by_step": {step: steps.count(step) for step in dict.fromkeys(steps)},
    }


def _wait(task_id: int, status: str, timeout: float = 120) -> dict[str, Any]:
    from core import service

    deadline = time.monotonic() + timeout
    while (task := service.get_task(task_id))["status"] != status:
        if time.monotonic() > deadline or task["status"] == "failed":
            raise RuntimeError(f"task {task_id} stopped at {task['status']}: {task['error_message']}")
        time.sleep(0.05)
    return task


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(run(), indent=2))
