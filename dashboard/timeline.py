"""A task's events as the task page shows them: what happened, in the user's language.

The events keep the words they were stored with (the specification's, for its messages);
the page says each in the user's language from its type and data instead. An event
this module does not know shows its stored message.
"""

from __future__ import annotations

from typing import Any

from core import service
from dashboard import i18n, ui
from dashboard.i18n import N_, _

EVENT_NAMES = {
    "task_created": N_("queued"),
    "workflow_started": N_("started"),
    "task_resumed": N_("resumed"),
    "step_completed": N_("step done"),
    "workflow_need_review": N_("awaiting review"),
    "review_submitted": N_("review decision"),
    "workflow_failed": N_("failed"),
    "workflow_completed": N_("completed"),
    "task_cancelled": N_("cancelled"),
    "task_retried": N_("retried"),
    "task_requeued": N_("requeued"),
    "retry_scheduled": N_("retry scheduled"),
    "review_reminder": N_("review reminder"),
    "review_assigned": N_("review assigned"),
}
DECISIONS = {"approved": N_("approved"), "rejected": N_("rejected")}


def event_name(kind: str) -> str:
    return _(EVENT_NAMES[kind]) if kind in EVENT_NAMES else kind


def decision_text(decision: str) -> str:
    return _(DECISIONS[decision]) if decision in DECISIONS else decision


def event_text(event: dict[str, Any], owner: str) -> str:
    """What the event says, in the user's language (plain text: it goes into a table)."""
    data, kind = event.get("data") or {}, event["type"]
    if kind == "task_created":
        return _("Queued by {user}", user=owner)
    if kind == "workflow_started":
        return _("The workflow started and is running…")
    if kind == "task_resumed":
        return _("Resumed by worker {worker}", worker=event["worker"] or "?")
    if kind == "step_completed" and event["step"]:
        return i18n.text(service.step_position(event["step"]))
    if kind == "workflow_need_review":
        return _("The AI generated the test data; it awaits a human review.")
    if kind == "review_submitted" and "reviewer" in data:
        return _("{reviewer} {decision} round {round}", reviewer=data["reviewer"],
                 decision=decision_text(data.get("review_status", "")), round=data.get("round", "?"))
    if kind == "workflow_completed" and data.get("new_usercase_id"):
        return _("Automation case {case} created", case=data["new_usercase_id"])
    if kind == "review_reminder" and isinstance(data.get("waiting_hours"), (int, float)):
        return _("Waiting for review for {waited}", waited=i18n.text(service.review_waited(data["waiting_hours"])))
    if kind in ("task_cancelled", "task_retried", "review_assigned") and (said := _stopped_or_retried(kind, data)):
        return said
    if kind == "task_requeued" and "previous_worker" in data:
        return _("The lease of worker {worker} expired at {at}; requeued to resume from its last checkpoint.",
                 worker=data["previous_worker"] or "?", at=ui.local_time(data.get("lease_expired_at")))
    if kind == "retry_scheduled" and data.get("error"):
        return _("A passing fault; the step is retried later: {error}", error=data["error"])
    return event["message"]


def _stopped_or_retried(kind: str, data: dict[str, Any]) -> str | None:
    """Who cancelled, retried or assigned the task, or that its review expired; None when the event does not say."""
    if kind == "review_assigned" and data.get("by"):
        return (_("{lead} asked {user} to review", lead=data["by"], user=data["assignee"]) if data.get("assignee")
                else _("{lead} unassigned the review", lead=data["by"]))
    if kind == "task_cancelled" and data.get("reason") == "review_expired":
        return _("Cancelled: waited for review longer than REVIEW_EXPIRE_DAYS allows")
    if data.get("by"):
        template = N_("Cancelled by {user}") if kind == "task_cancelled" else N_("Retried by {user}")
        return _(template, user=data["by"])
    return None
