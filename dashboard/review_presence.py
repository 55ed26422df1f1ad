"""Who is reviewing a task now and whom it is assigned to, as the review queue, the review and the task show it.

The review page claims the task for its reviewer when it opens and refreshes the claim while
it stays open (every CLAIM_REFRESH_SECONDS, well inside REVIEW_CLAIM_MINUTES); a second
reviewer sees the first and may take over. Nothing is ever blocked: a claim only informs.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from core import service
from core.service import Actor, CaseFlowError
from dashboard import ui
from dashboard.i18n import _

CLAIM_REFRESH_SECONDS = 30


def claim_text(claim: dict[str, Any]) -> str:
    """"**alice** is reviewing since Dec 1, 2026, 10:02" (markdown)."""
    return _("**{reviewer}** is reviewing since {at}", reviewer=ui.escape(claim["reviewer"]),
             at=ui.local_time(claim["since"], seconds=False))


def assignment_text(assignment: dict[str, Any]) -> str:
    """"assigned to **bob** by admin" (markdown)."""
    return _("assigned to **{assignee}** by {lead}", assignee=ui.escape(assignment["assignee"]),
             lead=ui.escape(assignment["by"] or "?"))


def desk_line(task_id: int) -> str | None:
    """The task's reviewer now and its assignee in one line of markdown, or None when there is neither."""
    desk = service.review_desk_of(task_id)
    parts = [claim_text(desk["claim"])] if desk["claim"] else []
    if desk["assignment"]:
        parts.append(assignment_text(desk["assignment"]))
    return " · ".join(parts) or None


def presence(task_id: int, actor: Actor) -> None:
    """Claims (or keeps) the task for ``actor``; shows who else is reviewing it, with a take-over button."""
    desk = service.review_desk_of(task_id)
    claim = desk["claim"]
    refreshed = f"review_claimed_{task_id}"
    due = time.monotonic() - st.session_state.get(refreshed, 0.0) >= CLAIM_REFRESH_SECONDS
    if actor.can_operate and (claim is None or (claim["reviewer"] == actor.username and due)):
        try:
            claim = service.claim_review(task_id, user=actor.username)
        except CaseFlowError:  # decided meanwhile: the page says so on its next refresh
            return
        st.session_state[refreshed] = time.monotonic()
    if claim and claim["reviewer"] != actor.username:
        st.warning(claim_text(claim) + ". " + _("You can still review; take over to tell others it is you now."),
                   icon=":material/group:")
        if actor.can_operate:
            st.button(_("Take over"), icon=":material/front_hand:", key="review_take_over",
                      on_click=take_over, args=(task_id, actor))
    elif claim:
        st.caption(":material/person: " + _("You are reviewing this task; others see it in the queue."))
    if desk["assignment"]:
        st.caption(":material/assignment_ind: " + assignment_text(desk["assignment"]))


def take_over(task_id: int, actor: Actor) -> None:
    if ui.attempt(lambda: service.claim_review(task_id, user=actor.username, take_over=True))[0]:
        st.session_state[f"review_claimed_{task_id}"] = time.monotonic()


def leave(task_id: int, actor: Actor) -> None:
    """The reviewer left the task: others no longer see them reviewing it."""
    if actor.can_operate:
        service.release_review(task_id, user=actor.username)
    st.session_state.pop(f"review_claimed_{task_id}", None)
