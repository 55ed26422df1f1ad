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
from sqlalchemy import select

from core import migrate
from core.accounts.users import create_user
from core.config import get_settings
from core.database import session_scope
from core.library import demo_data
from core.workflow.checkpointer import close_savers
from db.models import TestCase
from db.session import reset_databases
from testing.postgres import start_cluster

BENCH_USER = "bench"
BENCH_PASSWORD = "bench-password-1"
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


def release() -> None:
    """Closes every connection this process holds and forgets the settings."""
    close_savers()
    reset_databases()
    get_settings.cache_clear()


def prepare(url: str) -> None:
    """Points CaseFlow at ``url``, migrates it and adds the benchmark's users and the demo data."""
    configure(url)
    migrate.upgrade()
    for username in (BENCH_USER, *OTHER_USERS):
        create_user(username, "engineer", BENCH_PASSWORD)
    demo_data.load()


def demo_cases() -> list[tuple[int, str]]:
    """The demo test cases with their scenes, as (test case id, scene id); benchmarks cycle through them."""
    with session_scope() as session:
        rows = session.execute(
            select(TestCase.id, TestCase.scene_id).where(TestCase.scene_id.is_not(None)).order_by(TestCase.id)
        )
        return [(case_id, scene_id) for case_id, scene_id in rows if scene_id is not None]
