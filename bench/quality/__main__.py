"""`python -m bench.quality`: CaseFlow's generated cases against real API servers, with each provider.

Prints the report (the section docs/performance.md gets from a full `python -m bench`) and keeps
the figures in bench/results/quality-<timestamp>.json, with every row sent and answered in
bench/results/quality-<timestamp>-raw/.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from bench.machine import facts
from bench.quality.report import section
from bench.quality.run import PROVIDERS, QUICK_OPERATIONS, run
from bench.quality.servers import SERVERS

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _exit)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    raw = RESULTS / f"quality-{stamp}{'-quick' if args.quick else ''}-raw"
    measured = {key: value for key, value in facts().items() if key in ("date", "code")}
    results = {**run(args.servers, args.providers, quick=args.quick, raw_directory=raw, learning=args.learning),
               **measured}
    RESULTS.mkdir(parents=True, exist_ok=True)
    saved = RESULTS / f"quality-{stamp}{'-quick' if args.quick else ''}.json"
    saved.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(section(results, examples=args.examples))
    _say(f"done in {results['seconds']} s; figures in {saved.relative_to(ROOT)}, rows in {raw.relative_to(ROOT)}/")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quality",
        description="Installs real API servers into ~/.cache/caseflow-quality (CASEFLOW_QUALITY_CACHE), imports "
                    "their documents, generates and approves a case per operation with a JSON body, runs each "
                    "case twice and prints how the rows fared.",
    )
    parser.add_argument("--servers", type=_names(SERVERS), default=list(SERVERS),
                        help=f"comma-separated, from {', '.join(SERVERS)} (default: all)")
    parser.add_argument("--providers", type=_names(PROVIDERS), default=list(PROVIDERS),
                        help="comma-separated, from offline, openai (the OpenAI-compatible provider against "
                             "testing/fake_openai.py; default: both)")
    parser.add_argument("--quick", action="store_true",
                        help=f"only the first {QUICK_OPERATIONS} operations of each server, to check the harness")
    parser.add_argument("--examples", type=int, default=3, help="examples shown per failure cause (default 3)")
    parser.add_argument("--learning", action="store_true",
                        help="with a sandbox provider, two more rounds of tasks reviewed by a reviewer who removes "
                             "the rows the sandbox contradicted: how many the second round needs no edit for")
    return parser


def _names(known: Any) -> Any:
    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown) or '(none)'}; from {', '.join(known)}")
        return names
    return parse


def _say(message: str) -> None:
    print(f"[quality {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _exit(signum: int, _frame: Any) -> NoReturn:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
