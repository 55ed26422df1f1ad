"""Installing real API servers from the package registries into a cache outside the repository, once.

Each install lives in ``<cache>/<name>/`` (a virtualenv for PyPI packages, a node_modules tree for npm
ones) next to an ``installed.json`` that records what was installed, its version and how long it took.
An install whose marker matches the requested package is reused as it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_TIMEOUT_SECONDS = 1200
MARKER = "installed.json"


class Unavailable(Exception):
    """A server (or a tool it needs) cannot be installed or started here: it is skipped with this reason."""


@dataclass(frozen=True)
class Install:
    """What is installed where: ``bin`` holds the executables."""

    name: str
    root: Path
    bin: Path
    package: str
    version: str
    seconds: float
    reused: bool
    installed_at: str

    def facts(self) -> dict[str, Any]:
        return {"package": self.package, "version": self.version, "install_seconds": self.seconds,
                "reused": self.reused, "installed_at": self.installed_at}


def cache_root() -> Path:
    """CASEFLOW_QUALITY_CACHE, else ~/.cache/caseflow-quality."""
    configured = os.environ.get("CASEFLOW_QUALITY_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "caseflow-quality"


def pip_install(name: str, requirement: str, distribution: str) -> Install:
    """A virtualenv at <cache>/<name> with ``requirement`` installed (``distribution`` is its name, for the version)."""
    root = cache_root() / name
    reused = _reuse(root, requirement)
    if reused:
        return reused
    _fresh(root)
    began = time.monotonic()
    _run([_base_python(), "-m", "venv", str(root / "venv")], f"creating the virtualenv for {name}")
    pip = root / "venv" / "bin" / "pip"
    _run([str(pip), "install", "--disable-pip-version-check", "-q", requirement], f"pip install {requirement}")
    shown = _run([str(pip), "show", distribution], f"pip show {distribution}")
    version = next((line.split(":", 1)[1].strip() for line in shown.splitlines() if line.startswith("Version:")),
                   "unknown")
    return _mark(root, root / "venv" / "bin", name, requirement, version, time.monotonic() - began)


def npm_install(name: str, package: str, version: str) -> Install:
    """``package@version`` installed under <cache>/<name>/node_modules; needs node and npm on PATH."""
    root = cache_root() / name
    requirement = f"{package}@{version}"
    reused = _reuse(root, requirement)
    if reused:
        return reused
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise Unavailable("node and npm are not installed (Debian packages nodejs and npm)")
    _fresh(root)
    began = time.monotonic()
    (root / "package.json").write_text(json.dumps({"name": f"caseflow-quality-{name}", "private": True}) + "\n",
                                       encoding="utf-8")
    _run([npm, "install", "--no-audit", "--no-fund", "--silent", requirement], f"npm install {requirement}", cwd=root)
    manifest = root / "node_modules" / Path(*package.split("/")) / "package.json"
    installed = json.loads(manifest.read_text(encoding="utf-8")).get("version", version)
    return _mark(root, root / "node_modules" / ".bin", name, requirement, installed, time.monotonic() - began)


def _reuse(root: Path, requirement: str) -> Install | None:
    try:
        marker = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("requirement") != requirement or not Path(marker.get("bin", "")).is_dir():
        return None
    return Install(name=root.name, root=root, bin=Path(marker["bin"]), package=requirement,
                   version=marker["version"], seconds=marker["seconds"], reused=True,
                   installed_at=marker["installed_at"])


def _fresh(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)


def _mark(root: Path, bin_dir: Path, name: str, requirement: str, version: str, seconds: float) -> Install:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    marker = {"requirement": requirement, "version": version, "seconds": round(seconds, 1), "bin": str(bin_dir),
              "installed_at": stamp}
    (root / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return Install(name=name, root=root, bin=bin_dir, package=requirement, version=version,
                   seconds=round(seconds, 1), reused=False, installed_at=stamp)


def _base_python() -> str:
    """The interpreter behind this one (a virtualenv's python makes a virtualenv of its base)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{what} took more than {INSTALL_TIMEOUT_SECONDS} s") from None
    except OSError as error:
        raise Unavailable(f"{what} could not run: {error}") from None
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])[:400]
        raise Unavailable(f"{what} failed (exit {done.returncode}): {tail}")
    return done.stdout
