"""Running `python -m core` as a user does: a subprocess with the test's database, JSON in and out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, db_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": db_url, **env}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def ok(*args: str, db_url: str, **env: str) -> Any:
    result = cli(*args, db_url=db_url, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(*args: str, db_url: str, **env: str) -> dict[str, str]:
    result = cli(*args, db_url=db_url, **env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return json.loads(result.stderr)


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    """Runs ``python -m core ARGS`` in this process (sparing a 5-10 s interpreter start): (exit code, the JSON
    printed on stdout, or on stderr when it fails)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out if code == 0 else err)
