"""LangGraph's official savers on the product's own database, one per process and URL."""

from __future__ import annotations

import sqlite3
import threading

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from db.session import SQLITE_BUSY_TIMEOUT_MS, Database

POOL_MAX_IDLE_SECONDS = 300  # below common server and proxy idle-kill times
POOL_MAX_LIFETIME_SECONDS = 1800

_savers: dict[str, BaseCheckpointSaver] = {}
_lock = threading.Lock()


def get_saver(database: Database, pool_size: int = 4) -> BaseCheckpointSaver:
    """The process-wide saver writing checkpoints into ``database``."""
    key = database.url.render_as_string(hide_password=False)
    with _lock:
        if key not in _savers:
            _savers[key] = open_saver(database, pool_size)
        return _savers[key]


def setup_checkpoints(database: Database) -> None:
    """Create or migrate the checkpoint tables; run once, at migration time (concurrent setups race)."""
    get_saver(database).setup()


def close_savers() -> None:
    """Close every saver's connections (tests, and process shutdown)."""
    with _lock:
        for saver in _savers.values():
            close_saver(saver)
        _savers.clear()


def close_saver(saver: BaseCheckpointSaver) -> None:
    if isinstance(saver, SqliteSaver):
        saver.conn.close()
    elif isinstance(saver, PostgresSaver) and isinstance(saver.conn, ConnectionPool):
        saver.conn.close()


def open_saver(database: Database, pool_size: int) -> BaseCheckpointSaver:
    """A new saver on ``database`` (use :func:`get_saver` for the process's own)."""
    if database.is_sqlite:
        conn = sqlite3.connect(
            database.url.database or ":memory:", check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
        )
        conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return SqliteSaver(conn)
    pool = ConnectionPool(
        conninfo=libpq_url(database),
        min_size=1,
        max_size=pool_size,
        max_idle=POOL_MAX_IDLE_SECONDS,
        max_lifetime=POOL_MAX_LIFETIME_SECONDS,
        kwargs={"autocommit": True, "row_factory": dict_row, "prepare_threshold": 0},
        open=True,
        name="caseflow-checkpoints",
    )
    return PostgresSaver(pool)


def prune_finished(saver: BaseCheckpointSaver, config: RunnableConfig) -> None:
    """Keeps only the latest checkpoint of the thread (with its pending writes): all that resume and audit read.

    Called when a task stops (completed, failed, cancelled): a retry resumes from that checkpoint,
    and nothing reads a thread's history. PostgresSaver has its own ``prune``; SqliteSaver has none.
    """
    thread_id = str(config["configurable"]["thread_id"])
    if isinstance(saver, PostgresSaver):
        saver.prune([thread_id], strategy="keep_latest")
        return
    if not isinstance(saver, SqliteSaver):
        raise TypeError(f"cannot prune checkpoints of {type(saver).__name__}")
    latest = "SELECT checkpoint_ns, max(checkpoint_id) FROM checkpoints WHERE thread_id = ? GROUP BY checkpoint_ns"
    with saver.cursor() as cursor:
        for table in ("writes", "checkpoints"):
            cursor.execute(
                f"DELETE FROM {table} WHERE thread_id = ? AND (checkpoint_ns, checkpoint_id) NOT IN ({latest})",
                (thread_id, thread_id),
            )


def libpq_url(database: Database) -> str:
    """The database URL as psycopg 3 takes it, whatever SQLAlchemy driver the URL names."""
    return database.url.set(drivername="postgresql").render_as_string(hide_password=False)
