"""Typed errors with messages a QA engineer understands; every entry point shows them as they are.

A message is a template and its fields (``NotFound("No task with id {task_id}.", task_id=7)``):
the HTTP API and the CLI show the English sentence, the dashboard the same sentence in the
user's language (core.messages.Text; the template is the catalog's message id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import StatementError

from core.messages import Text

SHOWN_MESSAGE_CHARS = 500
"""The longest message of an unexpected exception a user is shown."""


class CaseFlowError(Exception):
    """Base of every error CaseFlow raises on purpose."""

    code = "error"

    def __init__(self, message: str, /, **params: Any) -> None:
        self.message = message if isinstance(message, Text) and not params else Text(message, **params)
        super().__init__(self.message)


class NotFound(CaseFlowError):
    code = "not_found"


class InvalidInput(CaseFlowError):
    code = "invalid_input"


class InvalidField(InvalidInput):
    """Bad input in one named field (the HTTP API answers 422 naming it, as for a schema mismatch)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(CaseFlowError):
    """The request clashes with the task's current state or with another user's decision."""

    code = "conflict"


class Forbidden(CaseFlowError):
    code = "forbidden"


class TransientError(CaseFlowError):
    """A failure worth retrying later (AI provider timeouts, rate limits, 5xx)."""

    code = "transient"


class LeaseLost(CaseFlowError):
    """This worker no longer owns the task (cancelled, or its lease expired and another took it)."""

    code = "lease_lost"


class RateLimited(CaseFlowError):
    """Too many failed attempts; the message says when the next one is allowed."""

    code = "rate_limited"


class SecretKeyError(CaseFlowError):
    """The key of secrets at rest is malformed, unreadable, missing, or not the one a secret was encrypted with."""

    code = "secret_key"


class DatabaseUnavailable(CaseFlowError):
    """DATABASE_URL is unusable, the database does not answer, or it lacks the current schema."""

    code = "database_unavailable"


def user_message(error: Exception) -> str:
    """What users are shown of ``error``: a CaseFlowError's message, else its type and the first line of its message.

    A database error shows only the driver's first line ("value too long for type character
    varying(300)"): never the SQL statement or its parameters, which hold users' data.
    """
    if isinstance(error, CaseFlowError):
        return error.message
    cause = error.orig if isinstance(error, StatementError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    first = lines[0][:SHOWN_MESSAGE_CHARS] if lines else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
