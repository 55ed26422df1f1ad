"""Measuring servers one after the other, each server and provider in a fresh interpreter."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import signal
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[2]
QUICK_OPERATIONS = 4
PROVIDERS = ("offline", "openai", "offline+sandbox")
"""How rows are made: the offline provider, the OpenAI-compatible one (against the fake server), and the
offline provider with the server itself as the module's sandbox environment (a run before review)."""


def run(servers: list[str], providers: list[str], *, quick: bool = False,
        raw_directory: Path | None = None, learning: bool = False) -> dict[str, Any]:
    """{"quick", "seconds", "results": [figures or {"server", "provider", "skipped"}]}: each in a fresh process."""
    began = time.monotonic()
    results = []
    for server in servers:
        for provider in providers:
            _say(f"{server}, {provider} provider{' (quick)' if quick else ''}")
            figures = _in_fresh_process(measure_server, server, provider, QUICK_OPERATIONS if quick else None,
                                        str(raw_directory) if raw_directory else None, learning)
            if "skipped" in figures:
                _say(f"{server}, {provider}: skipped: {figures['skipped']}")
            results.append(figures)
    kept = str(raw_directory.relative_to(ROOT)) if raw_directory and raw_directory.is_relative_to(ROOT) else (
        str(raw_directory) if raw_directory else None)
    return {"quick": quick, "seconds": round(time.monotonic() - began, 1), "results": results,
            "raw_directory": kept}


def reanalyse(quality: dict[str, Any], root: Path = ROOT) -> dict[str, Any]:
    """The same run's figures computed again from its kept rows (after a change to the analysis)."""
    from bench.quality.analysis import analyse

    if not quality.get("raw_directory"):
        return quality
    directory = root / quality["raw_directory"]
    results = []
    for item in quality["results"]:
        raw = directory / f"{item['server']}-{item['provider']}.json"
        results.append(item if "skipped" in item or not raw.exists()
                       else analyse(json.loads(raw.read_text(encoding="utf-8"))))
    return {**quality, "results": results}


def measure_server(server: str, provider: str, limit: int | None, raw_directory: str | None,
                   learning: bool = False) -> dict[str, Any]:
    """Installs and starts ``server``, measures ``provider`` on it, stops it: the figures, or why it was skipped."""
    from bench.quality.analysis import analyse
    from bench.quality.harness import measure
    from bench.quality.installs import Unavailable
    from bench.quality.servers import started

    signal.signal(signal.SIGTERM, _exit)  # the server's process group is stopped on `kill` too
    kept = Path(raw_directory) if raw_directory else None
    server_log = kept / f"{server}-{provider}-server.log" if kept else None
    try:
        with started(server) as target:
            measured = measure(target, provider, limit=limit, learning=learning)
            died = target.died()
            if died and server_log and target.process:  # its work dir goes with the `with`: the log says why
                server_log.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(target.process.log, server_log)
    except Unavailable as error:
        return {"server": server, "provider": provider, "skipped": str(error)}
    except Exception as error:  # noqa: BLE001 - one broken server must not stop the others
        traceback.print_exc()
        return {"server": server, "provider": provider, "skipped": f"{type(error).__name__}: {error}"}
    if kept:
        kept.mkdir(parents=True, exist_ok=True)
        (kept / f"{server}-{provider}.json").write_text(json.dumps(measured, indent=1, ensure_ascii=False) + "\n",
                                                        encoding="utf-8")
    if died:
        log = f"; its log is kept in {server_log}" if server_log else ""
        return {"server": server, "provider": provider,
                "skipped": f"not a measurement: {died} (after {measured['seconds']['total']} s){log}"}
    return analyse(measured)


def _in_fresh_process(function: Any, *args: Any) -> Any:
    """``function(*args)`` in a new interpreter; a process that dies is a skip, not a hang."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(function, *args).result()
        except BrokenProcessPool as error:
            return {"server": args[0], "provider": args[1], "skipped": f"the measuring process died: {error}"}


def _say(message: str) -> None:
    print(f"[quality {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _exit(signum: int, _frame: Any) -> NoReturn:
    raise SystemExit(128 + signum)
