"""Typed errors with messages a QA engineer understands; every entry point shows them as they are."""

from __future__ import annotations


class CaseFlowError(Exception):
    """Base of every error CaseFlow raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CaseFlowError):
    code = "not_found"


class InvalidInput(CaseFlowError):
    code = "invalid_input"


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


class DatabaseUnavailable(CaseFlowError):
    """DATABASE_URL is unusable, the database does not answer, or it lacks the current schema."""

    code = "database_unavailable"
