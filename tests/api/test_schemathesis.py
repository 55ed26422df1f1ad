"""Schemathesis (from PyPI, in its own virtualenv) fuzzes the API from its own /openapi.json: no server error."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.api.conftest import Api
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
PINS = ROOT / "requirements-schemathesis.txt"
MAX_EXAMPLES = 5
"""Per operation in the fuzzing phase; with the examples and coverage phases about 630 requests, ~25 s."""
TIMEOUT_SECONDS = 120


def schemathesis_cli() -> Path:
    """The pinned Schemathesis CLI in ~/.cache/caseflow/schemathesis-VERSION, installed there on first use."""
    pin = next(line.strip() for line in PINS.read_text().splitlines() if line.startswith("schemathesis=="))
    home = Path.home() / ".cache" / "caseflow" / pin.replace("==", "-")
    cli = home / "bin" / "schemathesis"
    if not cli.exists():
        venv.create(home, with_pip=True, clear=True)
        install = subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(PINS)],
                                 capture_output=True, text=True, timeout=600)
        if install.returncode != 0 or not cli.exists():
            unavailable(f"Schemathesis could not be installed into {home}: {install.stderr.strip()[-500:]}")
    return cli


@pytest.fixture(scope="session")
def schemathesis() -> Path:
    return schemathesis_cli()


def test_schemathesis_finds_no_server_error(schemathesis: Path, api_without_worker: Api, tmp_path: Path) -> None:
    api = api_without_worker
    result = subprocess.run(
        [str(schemathesis), "run", f"{api.base_url}/openapi.json",
         "--header", f"Authorization: Bearer {api.tokens['admin']}",
         "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing",
         "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic", "--request-timeout", "15",
         "--no-color", "--report", "junit", "--report-junit-path", str(tmp_path / "junit.xml")],
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, cwd=tmp_path, stdin=subprocess.DEVNULL,
        env=_without_proxies(),
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    suites = ElementTree.parse(tmp_path / "junit.xml").getroot()
    cases = suites.findall(".//testcase")
    assert len(cases) == 16, "every operation of /openapi.json was tested"
    assert not suites.findall(".//failure") and not suites.findall(".//error")


def _without_proxies() -> dict[str, Any]:
    """The API is on 127.0.0.1: no proxy may stand in between."""
    return {key: value for key, value in os.environ.items() if "proxy" not in key.lower()} | {"NO_COLOR": "1"}

