"""`python -m bench`: runs the benchmarks, keeps the raw figures in bench/results/ and writes docs/performance.md."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import signal
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from bench import ai_usage, list_latency, makespan, pages, scale, start_latency, throughput
from bench.backends import Backend, open_backends, prepare, release
from bench.machine import facts, load
from bench.quality import run as quality
from bench.quality.servers import SERVERS
from bench.report import render
from bench.seed import seed
from testing.postgres import PostgresUnavailable

BENCHMARKS = ("start", "list", "throughput", "makespan", "pages", "scale", "ai", "quality")
BACKENDS = ("sqlite", "postgres")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "performance.md"
POLL_SECONDS = 0.05


@dataclass(frozen=True, kw_only=True)
class Sizes:
    """How much each benchmark does."""

    tasks: int  # seeded into workflow_tasks before the latency benchmarks
    start_calls: int
    listing_start_calls: int  # paced starts while a Tasks page refreshes
    warmup_calls: int  # before each latency series; not kept
    list_calls: int
    search_calls: int  # searches scan every task: fewer of them
    workflows: int  # per throughput phase
    makespan_tasks: int  # per makespan phase, PostgreSQL only
    scale_tasks: dict[str, int]  # by backend name: the "A million tasks" section's seeded tasks
    scale_calls: int


FULL = Sizes(tasks=100_000, start_calls=300, listing_start_calls=150, warmup_calls=10, list_calls=50, search_calls=20,
             workflows=100, makespan_tasks=200, scale_tasks={"PostgreSQL": 1_000_000, "SQLite": 200_000},
             scale_calls=50)
QUICK = Sizes(tasks=2_000, start_calls=30, listing_start_calls=10, warmup_calls=3, list_calls=5, search_calls=3,
              workflows=6, makespan_tasks=8, scale_tasks={"PostgreSQL": 5_000, "SQLite": 5_000}, scale_calls=5)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render:
        return _render_saved(args.render, args.quality_raw, args.quality_from)
    sizes = QUICK if args.quick else FULL
    if args.scale_tasks:
        sizes = replace(sizes, scale_tasks=dict.fromkeys(sizes.scale_tasks, args.scale_tasks))
    selected = args.only or list(BENCHMARKS)
    signal.signal(signal.SIGTERM, _exit)  # so the PostgreSQL cluster is stopped on `kill` too
    partial = bool(args.quick or args.only or args.backend or args.scale_tasks)
    results: dict[str, Any] = {"machine": facts(), "quick": args.quick, "sizes": asdict(sizes),
                               "poll_seconds": POLL_SECONDS, "benchmarks": selected}
    began = time.monotonic()
    try:
        _on_databases(args.backend or list(BACKENDS), sizes, selected, results)
    except PostgresUnavailable as error:
        print(f"PostgreSQL is not available ({error}); run with --backend sqlite.", file=sys.stderr)
        return 2
    if "pages" in selected:
        _say("page render times")
        results["pages"] = _in_fresh_process(pages.run, args.quick, tuple(args.backend) if args.backend else None)
    if "ai" in selected:
        _say("model calls and tokens per case")
        results["ai"] = _in_fresh_process(ai_usage.run)
    if "quality" in selected:  # last: the servers it starts would disturb the latency figures
        _say("generated cases against real API servers (bench/quality)")
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        results["quality"] = quality.run(list(SERVERS), list(quality.PROVIDERS), quick=args.quick, learning=True,
                                         raw_directory=RESULTS / f"quality-{stamp}{'-quick' if args.quick else ''}-raw")
    results["seconds"] = round(time.monotonic() - began, 1)
    results["machine"]["load_after"] = load()
    saved = _save(results)
    markdown = render(results)
    if partial:
        print(markdown)
    else:
        DOCS.write_text(markdown, encoding="utf-8")
    _say(f"done in {results['seconds']} s; raw figures in {saved.relative_to(ROOT)}"
         + ("" if partial else f", report in {DOCS.relative_to(ROOT)}"))
    return 0


def _on_databases(names: list[str], sizes: Sizes, selected: list[str], results: dict[str, Any]) -> None:
    """The benchmarks that need a database, on each backend named."""
    with open_backends(names) as backends:
        results["backends"] = {backend.name: backend.version for backend in backends}
        if "throughput" in selected:  # first, before gigabytes of seeded data keep the disk busy
            for backend in backends:
                results.setdefault("throughput", {})[backend.name] = _throughput(backend, sizes)
        if "makespan" in selected and (postgres := [b for b in backends if b.name == "PostgreSQL"]):
            _say(f"makespan: {sizes.makespan_tasks} tasks, 0.5 s per model call, one and two workers")
            results["makespan"] = _in_fresh_process(makespan.run, postgres[0].new_database("bench_makespan"),
                                                    sizes.makespan_tasks)
        for backend in backends:
            _latency(backend, sizes, selected, results)
        if "scale" in selected:  # after the other latency figures: it fills the disk most
            results["scale"] = {backend.name: _scale(backend, sizes) for backend in backends}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks CaseFlow on SQLite and a throwaway PostgreSQL cluster. A full run (no options) "
                    "writes docs/performance.md; any option prints the report instead. Raw figures always go to "
                    "bench/results/.",
    )
    parser.add_argument("--quick", action="store_true",
                        help=f"a much smaller run ({QUICK.tasks:,} tasks, {QUICK.workflows} workflows) "
                             "to check the harness works")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, metavar="NAME",
                        help=f"run only this benchmark ({', '.join(BENCHMARKS)}); repeatable")
    parser.add_argument("--backend", action="append", choices=BACKENDS,
                        help="run only on this database; repeatable")
    parser.add_argument("--scale-tasks", type=int, metavar="N",
                        help="seed N tasks for the scale benchmark on every backend instead of "
                             + ", ".join(f"{n:,} on {b}" for b, n in FULL.scale_tasks.items()))
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="measure nothing: rewrite docs/performance.md from the raw figures of a full run, "
                             "re-analysing its quality rows (bench/quality/analysis.py) when they are kept")
    parser.add_argument("--quality-from", type=Path, metavar="QUALITY_JSON",
                        help="with --render: the quality section from a saved `python -m bench.quality` run "
                             "(bench/results/quality-<timestamp>.json), for a run measured with --only and no "
                             "quality; the page names that run's commit and date")
    parser.add_argument("--quality-raw", type=Path, metavar="DIR",
                        help="with --render: the quality rows' directory, when the results do not name it")
    return parser


def _render_saved(path: Path, quality_raw: Path | None, quality_from: Path | None) -> int:
    """docs/performance.md from a saved full run; the quality figures recomputed from its kept rows."""
    results = json.loads(path.read_text(encoding="utf-8"))
    if quality_from:
        results["quality"] = {**json.loads(quality_from.read_text(encoding="utf-8")), "measured_apart": True}
    if results.get("quick") or results.get("quality", {}).get("quick") or "backends" not in results:
        print(f"{path} is not a full run: --render writes docs/performance.md from full runs only.", file=sys.stderr)
        return 2
    if results.get("quality"):
        if quality_raw:
            results["quality"]["raw_directory"] = str(quality_raw.resolve())
        results["quality"] = quality.reanalyse(results["quality"], ROOT)
    DOCS.write_text(render(results), encoding="utf-8")
    _say(f"report in {DOCS.relative_to(ROOT)} from {path}")
    return 0


def _throughput(backend: Backend, sizes: Sizes) -> dict[str, Any]:
    _say(f"{backend.name}: throughput, {sizes.workflows} workflows per phase")
    url = backend.new_database("bench_throughput")
    prepare(url)
    release()
    measured: dict[str, Any] = _in_fresh_process(throughput.run, url, sizes.workflows, POLL_SECONDS)
    return measured


def _latency(backend: Backend, sizes: Sizes, selected: list[str], results: dict[str, Any]) -> None:
    """The selected latency benchmarks on ``backend``: an empty database, then a seeded one."""
    if "start" in selected:
        _say(f"{backend.name}: start latency, empty table")
        prepare(backend.new_database("bench_empty"))
        results.setdefault("start", {})[backend.name] = {
            "empty": start_latency.measure(sizes.start_calls, sizes.warmup_calls)
        }
    if "start" in selected or "list" in selected:
        _say(f"{backend.name}: seeding {sizes.tasks:,} tasks")
        prepare(backend.new_database("bench_seeded"))
        seeding = time.monotonic()
        results.setdefault("seed", {})[backend.name] = {**seed(sizes.tasks), "seconds": time.monotonic() - seeding}
    if "list" in selected:  # before the start benchmark adds its pending tasks to the newest page
        _say(f"{backend.name}: list latency, {sizes.tasks:,} tasks")
        results.setdefault("list", {})[backend.name] = list_latency.measure(
            sizes.list_calls, sizes.search_calls, sizes.warmup_calls
        )
    if "start" in selected:
        _say(f"{backend.name}: start latency, {sizes.tasks:,} tasks")
        results["start"][backend.name]["seeded"] = start_latency.measure(sizes.start_calls, sizes.warmup_calls)
        _say(f"{backend.name}: start latency, {sizes.tasks:,} tasks, a Tasks page refreshing")
        results["start"][backend.name]["listing"] = start_latency.measure_while_listing(
            sizes.listing_start_calls, sizes.warmup_calls, list_latency.OWNER_PAGE
        )
    release()


def _scale(backend: Backend, sizes: Sizes) -> dict[str, Any]:
    tasks = sizes.scale_tasks[backend.name]
    _say(f"{backend.name}: a million tasks, {tasks:,} seeded")
    return scale.run(backend, tasks, sizes.scale_calls, sizes.warmup_calls)


def _in_fresh_process(function: Any, *args: Any) -> Any:
    """``function(*args)`` in a new interpreter, which shares no connections and no memory with this one."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _save(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS / f"{stamp}{'-quick' if results['quick'] else ''}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _exit(signum: int, _frame: Any) -> NoReturn:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
