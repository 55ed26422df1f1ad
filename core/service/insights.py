"""What the metrics page shows: success rate, execution time, review approval rate, backlog, AI usage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.tasks import ai_calls, metrics
from core.tasks.metrics import TimeRange


def metrics_overview(since: datetime, until: datetime) -> dict[str, Any]:
    """Everything the metrics page charts for [since, until): summary, per day, per step, AI usage."""
    window = TimeRange(since=since, until=until)
    durations = metrics.duration_per_day(window)
    return {
        "summary": {**metrics.summary(window, durations=False), "avg_duration_seconds": metrics.average_of(durations)},
        "per_day": metrics.tasks_per_day(window),
        "durations": durations,
        "approvals": metrics.approval_per_day(window),
        "unedited": metrics.unedited_approvals(window),
        "steps": metrics.step_durations(window),
        "ai": ai_calls.usage_summary(since),
    }


def ai_usage(since: datetime | None = None) -> dict[str, Any]:
    """AI calls, tokens and estimated cost since ``since``, in all and per completed case."""
    return ai_calls.usage_summary(since)


__all__ = ["TimeRange", "ai_usage", "metrics_overview"]
