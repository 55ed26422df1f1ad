"""`python -m bench.chaos`: the chaos run in its long form, written to docs/reliability.md.

Two workers on a throwaway PostgreSQL, SIGKILLed at random moments and restarted, PostgreSQL
restarted fast and immediate, the AI stand-in failing 30% of calls (429, 500, 503, answers past
the timeout, invalid JSON, wrong shapes), reviews approved and rejected as they arrive. The
short form of the same run is a test (tests/integration/test_chaos.py).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from pathlib import Path

from bench.machine import facts
from core import service
from testing import chaos
from testing.postgres import start_cluster
from testing.process import release

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "reliability.md"
USER = "chaos"
LONG = chaos.Plan(tasks=200, workers=2, concurrency=4, kills=10, restarts=("fast", "immediate", "fast", "immediate"),
                  timeout_seconds=900)
QUICK = chaos.Plan(tasks=30, kills=3, timeout_seconds=300)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, to check the harness works")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else LONG
    report = run(plan)
    DOCS.write_text(render(plan, report, facts()), encoding="utf-8")
    print(json.dumps({"clean": report.clean, **asdict(report)}, indent=2, default=str))
    return 0 if report.clean else 1


def run(plan: chaos.Plan) -> chaos.Report:
    cluster = start_cluster()
    try:
        url = cluster.create_database("chaos")
        os.environ.update({"DATABASE_URL": url, "AI_PROVIDER": "auto"})
        release()
        service.upgrade_database()
        service.create_user(USER, "engineer", "amber-lantern-quay-9")
        service.load_demo_data()
        cases = sorted((case["id"], case["scene_id"]) for case in service.list_test_cases(limit=100)["items"])
        return chaos.run(plan, cluster, url, USER, cases)
    finally:
        release()
        cluster.stop()


def render(plan: chaos.Plan, report: chaos.Report, machine: dict[str, object]) -> str:
    failed = "".join(f"\n  - task {task_id}: {reason}" for task_id, reason in report.failed.items()) or " none"
    stuck = "".join(f"\n  - task {task_id}: {status}" for task_id, status in report.stuck.items()) or " none"
    return f"""# Reliability

Written by `python -m bench.chaos` ({machine['date']}, {machine['cpu']}, {machine['cpu_count']} cores); do not
edit by hand. The same run in a short form is part of the test suite (tests/integration/test_chaos.py).

## The run

{plan.tasks} tasks over the demo scenes on PostgreSQL, {plan.workers} `python -m core worker` processes with
{plan.concurrency} slots each and {plan.lease_seconds} s leases; {plan.kills} SIGKILLs of a random worker at
random moments (each replaced at once); PostgreSQL restarted {len(plan.restarts)} times
({', '.join(plan.restarts)}); the OpenAI-compatible provider against a stand-in failing
{plan.ai_fault_rate:.0%} of calls (429, 500, 503, answers past the 1 s timeout, invalid JSON, wrong
shapes); {plan.reject_share:.0%} of the tasks rejected once with feedback, every other review approved as it
arrives.

## Outcome ({report.seconds:g} s)

| measure | count | goal |
|---|---|---|
| completed | {report.completed} of {report.tasks} | all |
| failed with a reason | {len(report.failed)} | 0 |
| stuck (not finished when the run ended) | {len(report.stuck)} | 0 |
| duplicate automation cases | {report.duplicate_cases} | 0 |
| forked checkpoint histories | {report.forked_threads} | 0 |
| approved reviews lost | {report.lost_reviews} | 0 |
| review conflicts (a decision refused) | {report.review_conflicts} | 0 |
| worker kills / PostgreSQL restarts done | {report.kills} / {report.restarts} | {plan.kills} / {len(plan.restarts)} |

Failed:{failed}

Stuck:{stuck}
"""


if __name__ == "__main__":
    raise SystemExit(main())
