"""Runs one claimed task: streams its graph and writes progress, status and events.

Nodes only compute; everything a user sees of a run is written here, fenced on the
task's lease (see core.tasks.lifecycle). The graph's checkpoints make each run resumable: a run
starts from scratch, resumes after a crash or retry, or resumes step 9 with a decision.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
from langgraph.types import Command
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import DBAPIError, OperationalError

from core.config import Settings
from core.database import database, session_scope
from core.errors import CaseFlowError, LeaseLost, TransientError, user_message
from core.generation.factory import provider_from_settings
from core.library import sandbox
from core.library.automation_cases import create_automation_case, load_inputs
from core.tasks import ai_calls, lifecycle, telemetry
from core.tasks.lifecycle import Claim
from core.tasks.reviews import decision_for
from core.workflow.checkpointer import get_saver, prune_finished
from core.workflow.graph import build_graph, thread_config
from core.workflow.state import CreatedCase, WorkflowContext, WorkflowState
from core.workflow.steps import REVIEW_PROGRESS, STEP_BY_NODE, describe
from db.models import WorkflowTask
from db.types import utcnow

log = logging.getLogger(__name__)

_FINISHED = object()  # the thread has already reached its end
_WAITING = object()  # the thread waits for a review that has not been submitted


class TaskRunner:
    """Runs claimed tasks for one worker; safe to share between that worker's threads."""

    def __init__(self, worker_id: str, settings: Settings) -> None:
        self.worker_id = worker_id
        self.stopping = threading.Event()  # set by the worker: stop at the next step boundary
        self.settings = settings
        self.graph = build_graph(get_saver(database(), pool_size=settings.worker_concurrency + 1))
        self.context = workflow_context(settings)

    def run(self, claim: Claim) -> None:
        """Runs the task as far as it goes: to the review pause, to its end, or to an error."""
        with ai_calls.task_scope(claim.task_id):  # the provider's calls are recorded against this task
            self._run(claim)

    def _run(self, claim: Claim) -> None:
        with session_scope() as session:
            task = session.get(WorkflowTask, claim.task_id)
            if task is None or task.lease_owner != self.worker_id or task.claims != claim.token:
                return
            thread_id, params = task.thread_id, dict(task.input_params or {})
        config = thread_config(thread_id)
        try:
            command = self._next_input(claim, params, config)
            if command is _WAITING:
                return
            if command is not _FINISHED and self._stream(claim, command, config):
                return  # paused for review again
            self._finish(claim, config)
        except LeaseLost as lost:
            log.info("stopped running task %s: %s", claim.task_id, lost)
        except WorkerStopping:
            lifecycle.release(claim, self.worker_id)
        except Exception as exc:  # every failure of a run ends up on the task, not in a traceback
            try:
                self._fail_or_retry(claim, exc, config)
            except LeaseLost as lost:
                log.info("task %s failed after this worker lost it: %s", claim.task_id, lost)

    def _next_input(self, claim: Claim, params: dict[str, Any], config: Any) -> Any:
        snapshot = self.graph.get_state(config)
        if not snapshot.values:
            return {"task_id": claim.task_id, **params}
        if snapshot.interrupts:
            decision = decision_for(claim.task_id, snapshot.interrupts[0].value["round"])
            if decision is None:
                lifecycle.review_requested(claim, self.worker_id, snapshot.interrupts[0].value)
                return _WAITING
            return Command(resume=decision)
        # Finished only when no task is left at the latest checkpoint. A task whose writes were saved
        # before its worker died is missing from `next` but still listed in `tasks`: resuming
        # (input None) applies those writes and carries on from there.
        return None if snapshot.next or snapshot.tasks else _FINISHED

    def _stream(self, claim: Claim, command: Any, config: Any) -> bool:
        """Runs the graph from ``command``; True if it paused at the review interrupt."""
        interrupted = False
        last = time.monotonic()
        for chunk in self.graph.stream(
            command, config, context=self.context, stream_mode="updates", durability="sync"
        ):
            now = time.monotonic()
            for node, value in chunk.items():
                if node == "__interrupt__":
                    lifecycle.review_requested(claim, self.worker_id, value[0].value)
                    interrupted = True
                elif node in STEP_BY_NODE:
                    self._step_done(claim, node, round((now - last) * 1000))
            if self.stopping.is_set() and not interrupted:
                raise WorkerStopping
            last = now
        return interrupted

    def _step_done(self, claim: Claim, node: str, duration_ms: int) -> None:
        step = STEP_BY_NODE[node]
        telemetry.step_finished(node, duration_ms)
        lifecycle.step_done(claim, self.worker_id, node, f"Step {step.number}: {step.label}",
                            progress=min(step.progress, REVIEW_PROGRESS), duration_ms=duration_ms, number=step.number)

    def _finish(self, claim: Claim, config: Any) -> None:
        values = self.graph.get_state(config).values
        if values.get("outcome") != "created":
            rounds = values.get("review_round", 0)
            raise ReviewRoundsExhausted(
                "The generated rows were rejected {rounds} times; the limit is {settings_max_review_rounds} "
                "regeneration rounds. Refine the test case and start a new task.",
                rounds=rounds, settings_max_review_rounds=self.settings.max_review_rounds
            )
        result = values["result"]
        case = result["created_case"]  # a summary: the rows are the automation case's (core.workflow.nodes.FINISHED)
        lifecycle.complete(
            claim, self.worker_id, result["new_usercase_id"],
            {
                "new_usercase_id": result["new_usercase_id"],
                "rows": case["rows"],
                "review_rounds": values.get("review_round", 0),
                "provider": case["provider"],
                "model": case["model"],
            },
        )
        prune_finished(self.graph.checkpointer, config)

    def _fail_or_retry(self, claim: Claim, exc: Exception, config: Any) -> None:
        step = _failing_step(self.graph, config)
        message = user_message(exc)
        if not isinstance(exc, CaseFlowError):
            log.exception("task %s failed in %s", claim.task_id, step)
        if is_transient(exc):
            retries, since = lifecycle.retry_streak(claim.task_id)
            spent = (utcnow() - since).total_seconds() if since else 0.0
            if spent < self.settings.retry_budget_seconds:
                delay = min(self.settings.retry_base_seconds * 2 ** retries, self.settings.retry_max_seconds)
                lifecycle.retry_later(
                    claim, self.worker_id, utcnow() + timedelta(seconds=delay),
                    f"{message} — retrying in {delay:g} s (retry {retries + 1}; failing for {spent:.0f} s of at "
                    f"most {self.settings.retry_budget_seconds:.0f} s)",
                    step=step, error=message,
                )
                return
            message = f"{message} (still failing after {spent:.0f} s of retries)"
        error = f"{describe(step)} failed: {message}" if step else message
        extra: dict[str, Any] = {"current_step": step} if step else {}
        if isinstance(exc, ReviewRoundsExhausted):
            extra["result_data"] = {"outcome": "rejected"}
        lifecycle.fail(claim, self.worker_id, error, step=step, **extra)
        prune_finished(self.graph.checkpointer, config)


def workflow_context(
    settings: Settings, create_case: Callable[[WorkflowState], CreatedCase] = create_automation_case,
) -> WorkflowContext:
    """What every run of the graph is given: the configured provider (its calls recorded), the loaders, the limits."""
    return WorkflowContext(
        provider=provider_from_settings(settings, record=ai_calls.record),
        load_inputs=load_inputs,
        create_case=create_case,
        max_repair_rounds=settings.max_repair_rounds,
        max_review_rounds=settings.max_review_rounds,
        sandbox=sandbox.for_task,
    )


class WorkerStopping(Exception):
    """Raised between steps when the worker is asked to stop; the task goes back to the queue."""


class ReviewRoundsExhausted(CaseFlowError):
    """The reviewers rejected the rows more often than the rounds allow; retrying cannot help."""


def is_transient(exc: BaseException) -> bool:
    """Faults that pass: the AI provider's rate limits and outages, and a database or checkpointer that went away.

    psycopg's errors come from LangGraph's checkpointer, which talks to PostgreSQL directly;
    SQLAlchemy wraps the rest.
    """
    return isinstance(exc, (TransientError, OperationalError, psycopg.OperationalError, PoolTimeout)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _failing_step(graph: Any, config: Any) -> str | None:
    try:
        pending = graph.get_state(config).next
    except Exception:  # the checkpoint store itself may be what failed
        return None
    return pending[0] if pending else None
