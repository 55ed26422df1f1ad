"""Facts about the machine and the software a benchmark ran on."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

PACKAGES = ("SQLAlchemy", "langgraph", "langgraph-checkpoint-sqlite", "langgraph-checkpoint-postgres",
            "psycopg2-binary", "psycopg", "APScheduler")


def facts() -> dict[str, Any]:
    """CPU, memory, OS, Python, SQLite and package versions, and the date (UTC)."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": {name: version(name) for name in PACKAGES},
        "code": _code_version(),
        "load_before": load(),
    }


def load() -> list[float]:
    """The 1, 5 and 15-minute load averages: other work on the machine makes the figures noisier."""
    return [round(value, 2) for value in os.getloadavg()]


def _code_version() -> str:
    """The commit measured, marked when the working tree had changes on top of it."""
    root = Path(__file__).resolve().parent.parent
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty=+changes"], cwd=root,
                                   capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return described.stdout.strip()


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
