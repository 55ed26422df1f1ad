"""The benchmark results as docs/performance.md: markdown tables with the machine they ran on."""

from __future__ import annotations

from typing import Any

from bench.list_latency import OWNER_PAGE, PAGE
from bench.quality.report import section
from bench.scale import CLEANUP_DAYS, PRODUCT_TABLE, SCALE_OWN_TABLES, TARGETS
from bench.seed import HISTORY_DAYS, STATUS_WEIGHTS
from bench.start_latency import BUDGET_MS, REFRESH_SECONDS

INTRO = """\
# Performance

What CaseFlow costs on one machine, measured by `make bench` (`python -m bench`, the `bench/`
package). Benchmarks are not tests: nothing here is asserted, and figures move by some percent
between runs.

**Reproduce.** `make bench` runs everything and rewrites this page (about {duration} on the
machine below); the raw figures go to `bench/results/<timestamp>.json` (not committed). SQLite
databases are temporary files and PostgreSQL is a throwaway cluster started with `initdb`/`pg_ctl`
from `PATH` (`tests/support/postgres.py`), stopped at the end, errors included.
`python -m bench --quick` is a small run that checks the harness;
`--only start|list|throughput|makespan|pages|scale|ai|quality` and `--backend sqlite|postgres` narrow a run.
Those print the report instead of writing this page.
`python -m bench --render bench/results/<timestamp>.json` rewrites this page from a saved full run
without measuring again (the quality figures recomputed from the rows it kept).

**How to read the latency tables.** Each row is one function of `core.service` called again and
again from one thread (with nothing else running unless the row says so); times are wall-clock
milliseconds per call, transaction and commit included. p50 is the typical call, p95 and p99 the
slow ones, max the single slowest call. A few warm-up calls before each series are not counted.
"""

CAVEATS = """\
## What these figures do not say

- The PostgreSQL cluster runs with `fsync`, `synchronous_commit` and `full_page_writes` off, on the
  same 2 CPUs as Python: a production server with durable commits adds its commit latency (a
  fraction of a millisecond to a few milliseconds per transaction) and a network round trip per
  statement. SQLite runs as the product configures it (WAL, `synchronous=NORMAL`).
- The seeded tables hold `workflow_tasks` and `task_events` only: no checkpoints, reviews or
  automation cases for the seeded tasks. SQLite was not `ANALYZE`d (the product never does);
  PostgreSQL was `VACUUM ANALYZE`d after the bulk insert, as autovacuum would have done.
- Throughput uses the offline provider, which answers in milliseconds. With a real model each step
  waits seconds for the provider, and the task machinery's share of the time becomes small.
- The machine may be shared (tests, browsers): the load averages above say how busy it was. Compare
  figures from runs on the same machine, and rerun before reading much into a difference under ~20 %.
"""


def render(results: dict[str, Any]) -> str:
    """The whole page."""
    sections = [
        INTRO.format(duration=_minutes(results.get("seconds", 0))),
        _machine(results),
        _seed(results),
        _start(results),
        _list(results),
        _throughput(results),
        _makespan(results),
        _pages(results),
        _scale(results),
        _ai(results),
        section(results.get("quality")),
        CAVEATS,
    ]
    return "\n".join(section for section in sections if section)


def _machine(results: dict[str, Any]) -> str:
    machine = results["machine"]
    backends = results["backends"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    rows = [
        ["date", machine["date"]],
        ["CPU", f"{machine['cpu']}, {machine['cpu_count']} CPUs"],
        ["memory", f"{machine['memory_gib']} GiB"],
        ["OS", machine["os"]],
        ["Python", machine["python"]],
        ["SQLite", backends.get("SQLite", machine["sqlite"])],
        ["PostgreSQL", backends.get("PostgreSQL", "not run")],
        ["packages", packages],
        ["code", f"`{machine['code']}`"],
        ["run", f"{'quick' if results['quick'] else 'full'}, {results.get('seconds', 0):.0f} s in all"
                + (f"; benchmarks {', '.join(results['benchmarks'])}" if "benchmarks" in results else "")],
        ["load average (1, 5, 15 min)", f"{_loads(machine['load_before'])} before, "
                                        f"{_loads(machine.get('load_after', []))} after"],
    ]
    return "## Machine\n\n" + _table(["machine", ""], rows)


def _start(results: dict[str, Any]) -> str:
    if "start" not in results:
        return ""
    sizes = results["sizes"]
    tasks = f"{sizes['tasks']:,}"
    labels = {"empty": "0", "seeded": tasks, "listing": f"{tasks}, a Tasks page refreshing"}
    rows = []
    for backend, runs in results["start"].items():
        for key, label in labels.items():
            if key in runs:
                s = runs[key]
                rows.append([backend, label, str(s["n"]), *_ms_row(s), f"{s['p99'] / BUDGET_MS:.1%}",
                             f"{s['max'] / BUDGET_MS:.1%}"])
    return (
        "## Start latency\n\n"
        f"`core.service.start_workflow`, cycling through the ten demo test cases and every priority, with no "
        "worker running (the tasks stay pending). Each call reads the user, the test case and the scene, "
        "inserts the task and its `task_created` event and commits. The calls run back to back, except in "
        f"the *Tasks page refreshing* rows: there they run ten a second while another thread calls "
        f"`list_tasks({_arguments(OWNER_PAGE)})` every {REFRESH_SECONDS} s, as a Tasks page filtered by owner "
        "does: on SQLite, a transaction holding the database's write lock makes every start wait for it. "
        f"The specification allows {BUDGET_MS} ms; the last two columns are p99 and max as a share of it.\n\n"
        + _table(["backend", "tasks in table", "calls", "mean", "p50", "p95", "p99", "max", "p99 / budget",
                  "max / budget"], rows)
    )


def _arguments(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in arguments.items())


def _list(results: dict[str, Any]) -> str:
    if "list" not in results:
        return ""
    sizes = results["sizes"]
    rows = [
        [backend, label, f"{s['total']:,}", str(s["n"]), *_ms_row(s)]
        for backend, queries in results["list"].items()
        for label, s in queries.items()
    ]
    return (
        "## Task list latency\n\n"
        f"`core.service.list_tasks(limit={PAGE})` with {sizes['tasks']:,} tasks in the table: the newest page "
        f"(the Tasks page reloads its page every {REFRESH_SECONDS} s), a status filter, an owner filter and a search, "
        "which matches the thread id or the task's input parameters anywhere in the text. Each call also "
        "counts every match (`total`).\n\n"
        + _table(["backend", "query", "matching", "calls", "mean", "p50", "p95", "p99", "max"], rows)
    )


def _seed(results: dict[str, Any]) -> str:
    if "seed" not in results:
        return ""
    mix = ", ".join(f"{status} {weight} %" for status, weight in STATUS_WEIGHTS.items())
    rows = [
        [backend, f"{s['tasks']:,}", f"{s['events']:,}", _size(s["database_bytes"]), f"{s['seconds']:.0f} s"]
        for backend, s in results["seed"].items()
    ]
    return (
        "## The seeded database\n\n"
        f"Tasks spread over {HISTORY_DAYS} days and twelve owners (a few start most of them), statuses in the "
        f"mix {mix}, with the events each status leaves (15 for a completed task). Reviewing and completed "
        "tasks carry the real JSON a run of their demo test case leaves on the row (`interrupt_data`, and "
        "for completed tasks `created_case` and `result_data`): 10-50 KB each. Bulk-inserted with one "
        "INSERT ... SELECT per table (`bench/seed.py`).\n\n"
        + _table(["backend", "tasks", "events", "database size", "seeding time"], rows)
    )


def _throughput(results: dict[str, Any]) -> str:
    if "throughput" not in results:
        return ""
    rows = []
    for backend, t in results["throughput"].items():
        worker, bare, rss = t["worker"], t["bare"], t["peak_rss_mb"]
        failed = worker["not_completed"] + bare["not_completed"]
        rows.append([
            backend, str(t["tasks"]), f"{worker['per_second']:.1f}", f"{worker['seconds']:.1f} s",
            f"{bare['per_second']:.1f}", f"{bare['seconds']:.1f} s", f"{t['ratio']:.2f}" if t["ratio"] else "-",
            str(failed), *(f"{rss[key]:.0f} MiB" for key in ("before", "after_worker", "after_bare")),
        ])
    first = next(iter(results["throughput"].values()))
    return (
        "## Throughput and memory\n\n"
        f"End-to-end workflows per second with the offline provider, {first['tasks']} tasks per phase, "
        f"{first['concurrency']} at a time, in a fresh process per backend.\n\n"
        f"- **worker**: the tasks are started through `core.service.start_workflow` and run by a real "
        f"`core.scheduler.Worker` (concurrency {first['concurrency']}, `POLL_SECONDS={first['poll_seconds']}` "
        "instead of the default 2 s); a loop polls their status every "
        f"{first['poll_seconds']} s and approves each one through `core.service.submit_review` as soon as it "
        "awaits review (its queries count against the worker phase); the clock stops when the last one is "
        "completed. Two warm-up tasks run first.\n"
        "- **bare**: the same graph (`build_graph` on the same saver from `get_saver`) and the same "
        "`WorkflowContext` as `core.runner.TaskRunner`, called with `graph.invoke(..., durability=\"sync\")` "
        "to the review interrupt and `graph.invoke(Command(resume=decision))` to the end, on "
        f"{first['concurrency']} threads; no leases, events, fenced writes or polling.\n"
        "- **worker / bare** is the share of the bare rate the full machinery keeps; one minus it is the "
        "machinery's overhead.\n"
        "- **peak RSS** is the peak resident memory of that process (`VmHWM`; `getrusage`'s `ru_maxrss` would "
        "start at the RSS of the parent that spawned it): after imports (before), after the worker phase, "
        "and after the bare phase. A peak only ever grows.\n\n"
        + _table(["backend", "tasks", "worker (tasks/s)", "worker time", "bare (tasks/s)", "bare time",
                  "worker / bare", "not completed", "RSS before", "peak RSS, worker", "peak RSS, bare"], rows)
    )


def _makespan(results: dict[str, Any]) -> str:
    measured = results.get("makespan")
    if not measured:
        return ""
    rows = []
    for executor, label in (("worker", "`python -m core worker` (LISTEN/NOTIFY)"),
                            ("celery", "`python -m core celery-worker` (Redis)")):
        figures = measured[executor]
        for workers in ("one", "two"):
            phase = figures[workers]
            rows.append([label, workers, f"{phase['completed']}", f"{phase['seconds']:.1f} s",
                         f"{phase['ideal_seconds']:.1f} s", f"{phase['over_ideal']:.2f}",
                         f"{figures['speedup']:.2f}" if workers == "two" else "-"])
    return (
        "## Makespan: one worker and two\n\n"
        f"`bench/makespan.py`: {measured['tasks']} tasks on PostgreSQL with the offline provider behind a "
        f"{measured['model_seconds']} s delay per model call (`AI_LATENCY_SECONDS`), run by real worker processes "
        f"with {measured['concurrency']} slots each, approved by this process as soon as they await review. The "
        "ideal makespan is ceil(tasks / slots) times one task's time alone "
        f"({measured['worker']['unit_seconds']:.1f} s with the worker, {measured['celery']['unit_seconds']:.1f} s "
        "with Celery, approval included); targets: makespan / ideal at most 1.2, two workers at least 1.8 times "
        "as fast as one.\n\n"
        + _table(["executor", "workers", "completed", "makespan", "ideal", "makespan / ideal", "two / one"], rows)
    )


def _pages(results: dict[str, Any]) -> str:
    measured = results.get("pages")
    if not measured:
        return ""
    rows = [
        [backend, f"{int(tasks):,}", page, _ms(summary["p50"]), _ms(summary["p95"])]
        for backend, by_size in measured["pages"].items()
        for tasks, figures in by_size.items()
        for page, summary in figures.items()
        if page != "rows"
    ]
    return (
        "## Page render times (dashboard)\n\n"
        f"`bench/pages.py`: one full script run of a page through `app.py` with Streamlit's AppTest, as a "
        f"signed-in engineer sees it, measured on the server ({measured['samples']} renders each); the queries "
        "behind each page are timed alone too.\n\n"
        + _table(["backend", "tasks", "page or query", "p50", "p95"], rows)
    )


def _scale(results: dict[str, Any]) -> str:
    """The "A million tasks" section: each figure beside its target (issue 11 / 5), one column per backend."""
    if "scale" not in results:
        return ""
    by_backend = results["scale"]
    backends = list(by_backend)

    def row(label: str, target: str, figure: Any) -> list[str]:
        return [label, target, *(figure(by_backend[b]) for b in backends)]

    first = by_backend[backends[0]]
    rows = [
        row("start latency, p99", f"≤ {TARGETS['start_p99_ms']} ms", lambda r: _ms(r["start"]["p99"])),
        *(row(f"task list p95: {label}", f"≤ {TARGETS['list_p95_ms']} ms",
              lambda r, label=label: f"{_ms(r['list'][label]['p95'])} ({r['list'][label]['total']:,}"
                                     f"{'+' if r['list'][label]['total'] >= 10_000 else ''} matches)")
          for label in first["list"]),
        row("task_counts (every 2 s), p95", f"≤ {TARGETS['list_p95_ms']} ms", lambda r: _ms(r["task_counts"]["p95"])),
        row("Metrics page queries, 90 days, p95", f"≤ {TARGETS['metrics_ms']} ms",
            lambda r: _ms(r["metrics_90_days"]["p95"])),
        row("storage per completed task (task row, events, review, checkpoints)",
            f"≤ {TARGETS['bytes_per_task'] // 1024} KB", lambda r: _kb(r["storage"]["bytes_per_completed_task"])),
        row("  of which checkpoints", "", lambda r: _kb(sum(v for k, v in r["storage"]["row_bytes_per_task"].items()
                                                            if k not in SCALE_OWN_TABLES))),
        row("  and its automation case (the product, kept past the retention)", "",
            lambda r: _kb(r["storage"]["row_bytes_per_task"][PRODUCT_TABLE])),
        row("  database growth per completed task (all rows, indexes, pages)", "",
            lambda r: _kb(r["storage"]["database_growth_per_task"])),
        row("cleanup, rows per second", f"≥ {TARGETS['cleanup_rows_per_second']:,}",
            lambda r: f"{r['cleanup']['rows_per_second']:,.0f} ({r['cleanup']['tasks_per_second']:,.0f} tasks/s)"),
        row("slowest claim during the cleanup", f"≤ {TARGETS['claim_wait_ms']} ms",
            lambda r: f"{_ms(r['cleanup']['claims']['max'])} ({r['cleanup']['claims']['n']} claims)"),
    ]
    seeded = [[b, f"{r['seed']['tasks']:,}", f"{r['seed']['events']:,}", f"{r['seed']['checkpoints']:,}",
               _size(r["seed"]["database_bytes"]), f"{r['seed']['seconds']:.0f} s"] for b, r in by_backend.items()]
    return (
        "## A million tasks\n\n"
        "`bench/scale.py` (`--only scale`). On each backend, "
        f"{first['storage']['completed_tasks']} tasks first run through a real worker on an empty database: "
        "the storage figure is the bytes of the rows each completed task left (task, events, review, "
        "checkpoints; as stored: PostgreSQL compresses large values, SQLite does not), and their JSON is "
        "what the seeded rows copy. Then tasks as the product stores them now (small rows, one checkpoint "
        "per finished task, copied from a real one) and their events are "
        f"bulk-inserted over {HISTORY_DAYS} days in the mix above; PostgreSQL gets a million, SQLite the size "
        "below (bounded by the seeding time and the disk the machine shares). "
        "On that table: starts, the first page of the task list, each status and owner filter and searches "
        "(three characters or more go through the FTS5 / pg_trgm index), the per-status counts, the Metrics "
        f"page's queries for 90 days (`metrics_overview`), then a cleanup of the oldest {CLEANUP_DAYS} days "
        "while another thread claims pending tasks one at a time (rows: tasks, events, reviews and checkpoint "
        "threads removed).\n\n"
        + _table(["backend", "tasks", "events", "checkpoints", "database size", "seeding time"], seeded) + "\n"
        + _table(["figure", "target", *(f"{b} ({by_backend[b]['seed']['tasks']:,} tasks)" for b in backends)],
                 rows)
    )


def _kb(count: float) -> str:
    return f"{count / 1024:.1f} KB"


def _ai(results: dict[str, Any]) -> str:
    measured = results.get("ai")
    if not measured:
        return ""
    per_case = measured["per_case"]
    steps = ", ".join(f"{step} {count}" for step, count in measured["by_step"].items())
    cost = per_case["cost_per_case"]
    row = [str(measured["cases"]), f"{per_case['calls_per_case']}", f"{per_case['prompt_tokens_per_case']:,.0f}",
           f"{per_case['completion_tokens_per_case']:,.0f}", f"{cost:.4f} USD" if cost is not None else "-", steps]
    return (
        "## Model calls and tokens per case\n\n"
        "`bench/ai_usage.py`: the demo test cases through the OpenAI-compatible provider against "
        "`tests/support/fake_openai.py`, a local HTTP server answering as a perfect model would, each case "
        "approved as generated. Tokens are the fake server's counts (the prompts' size, not a real tokenizer); "
        "the cost uses the default `AI_PRICES`.\n\n"
        + _table(["cases", "calls per case", "prompt tokens per case", "completion tokens per case",
                  "est. cost per case", "calls by step"], [row])
    )


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def _loads(loads: list[float]) -> str:
    return " / ".join(f"{value:.1f}" for value in loads) or "-"


def _ms_row(summary: dict[str, float]) -> list[str]:
    return [_ms(summary[key]) for key in ("mean", "p50", "p95", "p99", "max")]


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
