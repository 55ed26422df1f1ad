"""Engines and transactional sessions, one engine per database URL in a process."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_SECONDS = 1.0  # how often a process's checkpointer copies SQLite's WAL into the database file
SEARCH_INDEXES = ("task_search",)
"""FTS5 tables whose segments the checkpointer merges (migration 0020)."""
MERGE_PAGES = 32
"""Pages of merging per index and pass: a few milliseconds holding the write lock."""

log = logging.getLogger(__name__)


class WalCheckpointer(threading.Thread):
    """Checkpoints one SQLite file's WAL in the background, so that no commit pays for a checkpoint, and
    merges the segments of its full-text indexes (SEARCH_INDEXES) likewise.

    The engine's connections run with ``wal_autocheckpoint=0``: SQLite's default hands the
    checkpoint to whichever commit crosses 1000 pages, a pause of tens of milliseconds for that
    caller (a task start, a claim). A PASSIVE checkpoint never waits for a lock, nor blocks a reader
    or the writer. The indexes merge nothing in a commit (migration 0020); a pass merges up to
    MERGE_PAGES pages, a short write that is skipped when another writer holds the lock. Each pass
    opens its own connection and closes it: none is held between passes, so nothing keeps the file
    open when a bulk load wants it alone (:meth:`Database.checkpoints_paused`).
    """

    def __init__(self, path: str, every: float = CHECKPOINT_SECONDS) -> None:
        super().__init__(name=f"wal-checkpoint {Path(path).name}", daemon=True)
        self.path, self.every = path, every
        self.passes = 0
        self._stopping = threading.Event()
        self._passed = threading.Condition()
        self._pauses = 0

    def run(self) -> None:
        while not self._stopping.wait(self.every) and Path(self.path).exists():  # a removed file: nothing to do
            self.checkpoint()

    def checkpoint(self) -> None:
        with self._passed:
            if self._pauses:
                return
            try:
                connection = sqlite3.connect(f"{Path(self.path).resolve().as_uri()}?mode=rw", uri=True, timeout=0,
                                             isolation_level=None)
                try:
                    _merge_search_indexes(connection)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except sqlite3.Error:
                log.debug("WAL checkpoint of %s skipped", self.path, exc_info=True)
            self.passes += 1
            self._passed.notify_all()

    def wait_for_pass(self, timeout: float = 10.0) -> bool:
        """Until a pass that began after this call has ended (tests); False if none did in ``timeout``."""
        with self._passed:
            seen = self.passes
            return self._passed.wait_for(lambda: self.passes > seen, timeout)

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._passed:
            self._pauses += 1
        try:
            yield
        finally:
            with self._passed:
                self._pauses -= 1

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join()


def _merge_search_indexes(connection: sqlite3.Connection) -> None:
    """Up to MERGE_PAGES pages of segment merging in each FTS5 index there is (none before migration 0016)."""
    names = ", ".join(f"'{name}'" for name in SEARCH_INDEXES)
    for (name,) in connection.execute(f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({names})"):
        try:
            connection.execute(f"INSERT INTO {name} ({name}, rank) VALUES ('merge', {MERGE_PAGES})")
        except sqlite3.OperationalError:  # another writer holds the lock: the next pass merges
            log.debug("merging %s skipped", name, exc_info=True)


class Database:
    """An engine and its session factory for one URL."""

    def __init__(self, url: str) -> None:
        self.url: URL = make_url(url)
        self.engine: Engine = _create_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(caseflow_read_only=True),
                                           expire_on_commit=False)
        self._checkpoints_lock = threading.Lock()
        self.checkpointer: WalCheckpointer | None = None
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            event.listen(self.engine, "connect", lambda *_: self._start_checkpoints())

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        ``read_only`` transactions never wait for SQLite's write lock (pages polling
        every few seconds should not queue behind the workers' writes).
        """
        factory = self._read_sessions if read_only else self._sessions
        with factory() as session, session.begin():
            yield session

    @contextmanager
    def checkpoints_paused(self) -> Iterator[None]:
        """No background checkpoint meanwhile (a bulk load that wants the file to itself); a no-op off SQLite."""
        checkpointer = self.checkpointer
        if checkpointer is None:
            yield
            return
        with checkpointer.paused():
            yield

    def dispose(self) -> None:
        """Closes the pool and stops the checkpointer (the next connection starts another)."""
        with self._checkpoints_lock:
            checkpointer, self.checkpointer = self.checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()
        self.engine.dispose()

    def _start_checkpoints(self) -> None:
        """Starts this process's checkpointer with the first connection (after a fork too: threads do not
        survive one, and the child's Database starts its own)."""
        with self._checkpoints_lock:
            if self.checkpointer is None or not self.checkpointer.is_alive():
                assert self.url.database is not None
                self.checkpointer = WalCheckpointer(self.url.database)
                self.checkpointer.start()


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, json_serializer=_json_dumps, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, json_serializer=_json_dumps, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _json_dumps(value: Any) -> str:
    """JSON columns keep non-ASCII text (Chinese test cases) readable and searchable."""
    return json.dumps(value, ensure_ascii=False)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; the busy timeout makes writers wait, not fail."""
    dbapi_connection.isolation_level = None  # transactions are begun by _sqlite_on_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # the process's WalCheckpointer checkpoints instead
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    """BEGIN IMMEDIATE takes the write lock up front, so a read-then-write transaction
    waits for the lock instead of failing with "database is locked" half-way.
    Read-only transactions take a plain (deferred) BEGIN: WAL readers need no lock."""
    read_only = connection.get_execution_options().get("caseflow_read_only", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


_databases: dict[str, Database] = {}
_lock = threading.Lock()


def get_database(url: str) -> Database:
    """The process-wide Database for ``url``."""
    with _lock:
        if url not in _databases:
            _databases[url] = Database(url)
        return _databases[url]


def reset_databases() -> None:
    """Dispose every engine (tests, and after a fork)."""
    with _lock:
        for database in _databases.values():
            database.dispose()
        _databases.clear()
