"""The databases a benchmark runs on: SQLite files and a throwaway PostgreSQL cluster."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from core import service
from testing.postgres import start_cluster
from testing.process import release

BENCH_USER = "bench"
BENCH_PASSWORD = "tidal-copper-orchard"
OTHER_USERS = tuple(f"qa{n:02d}" for n in range(1, 12))
"""Owners of the seeded tasks besides BENCH_USER."""


@dataclass(frozen=True)
class Backend:
    """One database engine; ``new_database(name)`` returns the URL of a fresh, empty database."""

    name: str
    new_database: Callable[[str], str]
    version: str


@contextmanager
def open_backends(names: list[str]) -> Iterator[list[Backend]]:
    """The backends called ``names``; their files and the PostgreSQL cluster are removed on exit, errors too."""
    with ExitStack() as stack:
        yield [stack.enter_context(_OPENERS[name]()) for name in names]


@contextmanager
def _sqlite() -> Iterator[Backend]:
    directory = Path(tempfile.mkdtemp(prefix="caseflow-bench-"))
    try:
        yield Backend("SQLite", lambda name: f"sqlite:///{directory / name}.db", sqlite3.sqlite_version)
    finally:
        release()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def _postgres() -> Iterator[Backend]:
    cluster = start_cluster()
    try:
        yield Backend("PostgreSQL", cluster.create_database, _server_version(cluster.port))
    finally:
        release()
        cluster.stop()


_OPENERS: dict[str, Callable[[], AbstractContextManager[Backend]]] = {"sqlite": _sqlite, "postgres": _postgres}


def _server_version(port: int) -> str:
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres") as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "unknown"


def configure(url: str, **settings: str) -> None:
    """Points CaseFlow at ``url`` and drops every cached engine, saver and setting (as tests/conftest.py does)."""
    os.environ["DATABASE_URL"] = url
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ.update({"AI_PROVIDER": "offline", "AI_LATENCY_SECONDS": "0", **settings})
    release()


def prepare(url: str) -> None:
    """Points CaseFlow at ``url``, migrates it and adds the benchmark's users and the demo data."""
    configure(url)
    service.upgrade_database()
    for username in (BENCH_USER, *OTHER_USERS):
        service.create_user(username, "engineer", BENCH_PASSWORD)
    service.load_demo_data()


def demo_cases() -> list[tuple[int, str]]:
    """The demo test cases with their scenes, as (test case id, scene id); benchmarks cycle through them."""
    cases = service.list_test_cases(limit=service.MAX_PAGE)["items"]
    return sorted((case["id"], case["scene_id"]) for case in cases if case["scene_id"] is not None)
