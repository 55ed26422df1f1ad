"""Transactions: read-only ones do not queue behind a writer on SQLite."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from core.database import session_scope
from db.models import User


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_reads_proceed_while_a_writer_holds_the_lock(users) -> None:
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        with session_scope() as session:
            session.execute(text("UPDATE users SET is_active = is_active"))
            writing.set()
            done.wait(60)  # until the read below is done: a read that needs the lock would fail

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        with session_scope(read_only=True) as session:
            assert session.scalar(select(func.count()).select_from(User)) == 4
    finally:
        done.set()
        thread.join()
