"""SQLite's WAL is checkpointed by a background thread per process, not by the commit that fills it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from db.session import Database

ROUNDS, COMMITS = 12, 150
ROW = "x" * 3000  # about a page per commit


def _wal(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_the_wal_stays_bounded_and_the_checkpointer_stops_with_the_engine(tmp_path) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite:///{path}")
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0, "commits never checkpoint"
    checkpointer = db.checkpointer
    assert checkpointer is not None and checkpointer.is_alive()
    largest = 0
    for _ in range(ROUNDS):
        for _ in range(COMMITS):
            with db.engine.begin() as connection:
                connection.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": ROW})
        largest = max(largest, _wal(path))
        assert checkpointer.wait_for_pass()
    # without checkpoints every commit's page would stay in the WAL: ROUNDS * COMMITS pages and more
    assert largest < ROUNDS * COMMITS * 4096 / 3
    with db.checkpoints_paused():
        before = checkpointer.passes
        checkpointer.checkpoint()
        assert checkpointer.passes == before, "no checkpoint while paused"
    db.dispose()
    assert db.checkpointer is None and not checkpointer.is_alive()
