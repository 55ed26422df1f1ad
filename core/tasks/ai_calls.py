"""Every request to the AI provider, recorded: the task detail lists them, the metrics page sums them.

The provider reports each request through :func:`record`; the task it belongs to comes
from :func:`task_scope`, which the runner opens around a task's run (a context variable,
so it follows the run into LangGraph's node threads and never leaks between tasks).
Estimated costs are computed in SQL from the AI_PRICES table of the current settings.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select
from sqlalchemy.exc import SQLAlchemyError

from core.config import ModelPrice, get_settings
from core.database import session_scope
from core.tasks import telemetry
from db.models import AICall, TaskStatus, WorkflowTask
from db.types import isoformat

if TYPE_CHECKING:  # the openai client is imported only where a model is used
    from core.generation.openai_compatible.chat import CallRecord

log = logging.getLogger(__name__)

CURRENCY = "USD"
_current_task: ContextVar[int | None] = ContextVar("caseflow_ai_task", default=None)


@contextmanager
def task_scope(task_id: int) -> Iterator[None]:
    """Calls recorded inside the block belong to ``task_id``."""
    token = _current_task.set(task_id)
    try:
        yield
    finally:
        _current_task.reset(token)


def record(call: CallRecord) -> None:
    """Stores one request (and counts it for Prometheus); a failure to store it is logged, never fatal to the task."""
    telemetry.ai_call(call.provider, call.model, call.outcome, call.prompt_tokens, call.completion_tokens)
    try:
        with session_scope() as session:
            session.add(AICall(task_id=_current_task.get(), **dataclasses.asdict(call)))
    except SQLAlchemyError:
        log.warning("could not record an AI call of step %s", call.step, exc_info=True)


def calls_for_task(task_id: int) -> list[dict[str, Any]]:
    """The task's requests, oldest first, each with its estimated cost (None for a model without a price)."""
    cost = _cost(get_settings().ai_prices)
    with session_scope() as session:
        rows = session.execute(
            select(AICall, cost.label("cost")).where(AICall.task_id == task_id).order_by(AICall.id)
        ).all()
    return [_call_dict(call, value) for call, value in rows]


def task_usage(task_id: int) -> dict[str, Any]:
    """Calls, tokens and estimated cost of one task."""
    cost = _cost(get_settings().ai_prices)
    query = _totals(cost).where(AICall.task_id == task_id)
    with session_scope() as session:
        row = session.execute(query).one()
    return _totals_dict(row)


def usage_summary(since: datetime | None = None) -> dict[str, Any]:
    """Usage since ``since`` (all time when None): totals, per model, and per completed case.

    Totals and the per-model rows count the calls made since then. The per-case figures
    average, over the tasks completed since then that called the model, all of each
    task's calls (repairs, retries and regenerations after rejections included).
    """
    prices = get_settings().ai_prices
    cost = _cost(prices)
    since = _utc(since)
    recent = [AICall.created_at >= since] if since else []
    by_model_query = (
        _totals(cost).add_columns(AICall.model).where(*recent).group_by(AICall.model).order_by(AICall.model)
    )
    outcomes_query = select(AICall.outcome, func.count()).where(*recent).group_by(AICall.outcome)
    with session_scope() as session:
        by_model = [{"model": row.model, **_totals_dict(row)} for row in session.execute(by_model_query)]
        outcomes = {outcome: count for outcome, count in session.execute(outcomes_query)}
        per_case = session.execute(_per_case(cost, since)).one()
    totals = {key: sum(item[key] for item in by_model) for key in ("calls", "prompt_tokens", "completion_tokens")}
    priced = [item["estimated_cost"] for item in by_model if item["estimated_cost"] is not None]
    cases = per_case.cases or 0
    return {
        "since": isoformat(since),
        "currency": CURRENCY,
        **totals,
        "total_tokens": totals["prompt_tokens"] + totals["completion_tokens"],
        "estimated_cost": round(sum(priced), 6) if priced else None,
        "outcomes": outcomes,
        "by_model": by_model,
        "unpriced_models": [item["model"] for item in by_model if item["estimated_cost"] is None],
        "completed_cases": cases,
        "calls_per_case": _round(per_case.calls) if cases else None,
        "prompt_tokens_per_case": _round(per_case.prompt_tokens) if cases else None,
        "completion_tokens_per_case": _round(per_case.completion_tokens) if cases else None,
        "tokens_per_case": _round(per_case.tokens) if cases else None,
        "cost_per_case": _round(per_case.cost, 6) if per_case.cost is not None else None,
    }


def _price_of(prices: dict[str, ModelPrice], attribute: str) -> ColumnElement[Any]:
    """The price per 1k tokens of each call's model: exact name, or a dated variant ("gpt-4o-2024-08-06").

    Longer names are tried first, so "gpt-4o-mini-…" gets gpt-4o-mini's price, not gpt-4o's.
    """
    if not prices:
        return literal(None)
    whens = [
        (or_(AICall.model == name, AICall.model.startswith(f"{name}-", autoescape=True)), getattr(price, attribute))
        for name, price in sorted(prices.items(), key=lambda item: len(item[0]), reverse=True)
    ]
    return case(*whens, else_=None)


def _cost(prices: dict[str, ModelPrice]) -> ColumnElement[Any]:
    """A call's estimated cost in SQL; NULL when its model has no price."""
    prompt = func.coalesce(AICall.prompt_tokens, 0) * _price_of(prices, "prompt_per_1k")
    completion = func.coalesce(AICall.completion_tokens, 0) * _price_of(prices, "completion_per_1k")
    return (prompt + completion) / 1000.0


def _totals(cost: ColumnElement[Any]) -> Select[Any]:
    return select(
        func.count(AICall.id).label("calls"),
        func.coalesce(func.sum(AICall.prompt_tokens), 0).label("prompt_tokens"),
        func.coalesce(func.sum(AICall.completion_tokens), 0).label("completion_tokens"),
        func.sum(cost).label("cost"),
        func.count(case((AICall.outcome != "ok", 1))).label("failed"),
        func.coalesce(func.sum(AICall.latency_ms), 0).label("latency_ms"),
    )


def _per_case(cost: ColumnElement[Any], since: datetime | None) -> Select[Any]:
    """Averages over completed tasks of each task's calls, tokens and cost."""
    done = [WorkflowTask.status == TaskStatus.COMPLETED.value]
    if since:
        done.append(WorkflowTask.completed_at >= since)
    per_task = (
        select(
            AICall.task_id,
            func.count(AICall.id).label("calls"),
            func.coalesce(func.sum(AICall.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(AICall.completion_tokens), 0).label("completion_tokens"),
            func.sum(cost).label("cost"),
        )
        .join(WorkflowTask, WorkflowTask.id == AICall.task_id)
        .where(*done)
        .group_by(AICall.task_id)
        .subquery()
    )
    return select(
        func.count().label("cases"),
        func.avg(per_task.c.calls).label("calls"),
        func.avg(per_task.c.prompt_tokens).label("prompt_tokens"),
        func.avg(per_task.c.completion_tokens).label("completion_tokens"),
        func.avg(per_task.c.prompt_tokens + per_task.c.completion_tokens).label("tokens"),
        func.avg(per_task.c.cost).label("cost"),
    ).select_from(per_task)


def _totals_dict(row: Any) -> dict[str, Any]:
    prompt, completion = int(row.prompt_tokens or 0), int(row.completion_tokens or 0)
    return {
        "calls": int(row.calls or 0),
        "failed_calls": int(row.failed or 0),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "latency_ms": int(row.latency_ms or 0),
        "estimated_cost": _round(row.cost, 6) if row.cost is not None else None,
    }


def _call_dict(call: AICall, cost: Any) -> dict[str, Any]:
    prompt, completion = call.prompt_tokens, call.completion_tokens
    return {
        "id": call.id,
        "task_id": call.task_id,
        "step": call.step,
        "purpose": call.purpose,
        "attempt": call.attempt,
        "provider": call.provider,
        "model": call.model,
        "response_format": call.response_format,
        "outcome": call.outcome,
        "latency_ms": call.latency_ms,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": (prompt or 0) + (completion or 0) if prompt is not None or completion is not None else None,
        "estimated_cost": _round(cost, 6) if cost is not None else None,
        "error": call.error,
        "created_at": isoformat(call.created_at),
    }


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _utc(value: datetime | None) -> datetime | None:
    """A naive ``since`` is taken as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
