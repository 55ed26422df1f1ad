"""What a failed task shows of an unexpected exception: its type and a short message, never SQL or parameters."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DataError, IntegrityError, StatementError

from core.errors import InvalidInput, user_message

SECRET = "a task name only its owner should see"


def test_a_database_error_shows_the_drivers_first_line_only() -> None:
    error = DataError("INSERT INTO automation_cases (name) VALUES (%(name)s)", {"name": SECRET},
                      Exception("value too long for type character varying(300)\n"))
    assert user_message(error) == "DataError: value too long for type character varying(300)"
    assert "[SQL" in str(error) and SECRET in str(error), "what the message must leave out"
    unique = IntegrityError("INSERT INTO users (username) VALUES (?)", ("bob",), sqlite3.IntegrityError(
        'duplicate key value violates unique constraint "uq_users_username"\nDETAIL:  Key (username)=(bob) exists.'))
    assert user_message(unique) == 'IntegrityError: duplicate key value violates unique constraint "uq_users_username"'


def test_other_errors_show_their_type_and_first_line() -> None:
    wrapped = StatementError("A value is not JSON", "INSERT INTO reviews VALUES (?)", (SECRET,), ValueError("bad"))
    assert user_message(wrapped) == "StatementError: bad"
    assert user_message(RuntimeError("the checkpoint store is gone\n" + SECRET)) == \
        "RuntimeError: the checkpoint store is gone"
    assert user_message(KeyError()) == "KeyError"
    assert user_message(ValueError("x" * 2000)) == "ValueError: " + "x" * 500
    assert user_message(InvalidInput("The task name has 301 characters.")) == "The task name has 301 characters."
