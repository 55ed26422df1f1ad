"""The review desk's service: who is reviewing (claims that lapse, take-over, never blocking a decision),
the queue's filters, and assignments that reach the assignee as a notification. SQLite and PostgreSQL.

Time moves by passing ``now`` to the claim or by moving a review's events into the past, never by waiting.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core import service
from core.database import session_scope
from core.service import Conflict, Forbidden, InvalidInput
from core.tasks import events, review_desk
from db.models import TaskEvent, WorkflowTask
from db.types import utcnow
from tests.support.cases import first_case_and_scene
from tests.support.cli import cli, ok


def reviewing(users: dict[str, str], wait: Any, module: str | None = None) -> dict[str, Any]:
    case_id, scene_id = first_case_and_scene()
    task = service.start_workflow(case_id, scene_id, module_id=module, user=users["engineer"])
    return wait(task["task_id"], "reviewing")


def test_a_second_reviewer_sees_the_first_and_may_take_over(demo, users, worker, wait) -> None:
    task = reviewing(users, wait)
    alice, bob = users["engineer"], users["engineer2"]
    first = service.claim_review(task["id"], user=alice)
    assert first["reviewer"] == alice and first["mine"]
    seen = service.claim_review(task["id"], user=bob)
    assert seen["reviewer"] == alice and not seen["mine"] and seen["since"] == first["since"]
    assert service.review_desk_of(task["id"])["claim"]["reviewer"] == alice

    taken = service.claim_review(task["id"], user=bob, take_over=True)
    assert taken["reviewer"] == bob and taken["mine"]
    refreshed = service.claim_review(task["id"], user=alice)  # alice's page refreshes: bob keeps it
    assert refreshed["reviewer"] == bob and not refreshed["mine"]
    again = service.claim_review(task["id"], user=bob)
    assert again["since"] == taken["since"] and again["expires_at"] >= taken["expires_at"]

    assert not service.release_review(task["id"], user=alice), "alice cannot end bob's claim"
    assert service.release_review(task["id"], user=bob)
    assert service.review_desk_of(task["id"])["claim"] is None


def test_a_lapsed_claim_counts_as_none(demo, users, worker, wait) -> None:
    task = reviewing(users, wait)
    alice = service.current_actor(users["engineer"])
    long_ago = utcnow() - timedelta(minutes=10)
    lapsed = review_desk.claim(task["id"], alice, timedelta(minutes=3), now=long_ago)
    assert lapsed["reviewer"] == alice.username
    assert service.review_desk_of(task["id"])["claim"] is None
    assert service.review_queue()["items"][0]["claim"] is None
    bob = service.claim_review(task["id"], user=users["engineer2"])
    assert bob["mine"] and bob["since"] > lapsed["since"], "no take-over needed, and bob's claim starts now"


def test_a_claim_never_blocks_a_review_and_the_decision_ends_it(demo, users, worker, wait, db_url) -> None:
    first, second = reviewing(users, wait), reviewing(users, wait)
    for task in (first, second):
        service.claim_review(task["id"], user=users["engineer"])
    decided = service.submit_review(first["thread_id"], "approved", reviewer=users["engineer2"], wait_seconds=20)
    assert decided["status"] == "completed"
    assert service.review_desk_of(first["id"])["claim"] is None, "the decided round has no reviewer any more"

    by_cli = ok("review", second["thread_id"], "--status", "approved", "--wait", "20", "--user", users["admin"],
                db_url=db_url)
    assert by_cli["status"] == "completed"
    with pytest.raises(Conflict):
        service.claim_review(first["id"], user=users["engineer"])


def test_viewers_cannot_claim_and_only_admins_assign(demo, users, worker, wait) -> None:
    task = reviewing(users, wait)
    with pytest.raises(Forbidden):
        service.claim_review(task["id"], user=users["viewer"])
    with pytest.raises(Forbidden):
        service.assign_review(task["id"], users["engineer2"], user=users["engineer"])
    with pytest.raises(InvalidInput, match="victor is a viewer"):
        service.assign_review(task["id"], users["viewer"], user=users["admin"])
    assert service.review_desk_of(task["id"])["assignment"] is None


def test_an_assignment_is_stored_and_told_to_the_assignee_only(demo, users, worker, wait) -> None:
    task = reviewing(users, wait)
    alice, bob = users["engineer"], users["engineer2"]
    start = service.latest_event_id()
    assigned = service.assign_review(task["id"], bob, user=users["admin"])
    assert assigned["assignee"] == bob and assigned["by"] == users["admin"]
    assert service.review_queue()["items"][0]["assignment"]["assignee"] == bob
    [told] = service.events_since(bob, start)
    assert told["type"] == "review_assigned" and told["task_id"] == task["id"]
    assert told["title"] == "assigned to you for review"
    assert service.events_since(alice, start) == [], "the owner is not told of someone else's assignment"

    assert service.assign_review(task["id"], None, user=users["admin"]) is None
    assert service.review_desk_of(task["id"])["assignment"] is None
    assert service.events_since(bob, told["id"]) == [], "unassigning tells nobody"
    assert [e["type"] for e in service.task_timeline(task["id"])].count("review_assigned") == 2


def test_the_queue_filters_by_mine_module_and_age(demo, users, worker, wait) -> None:
    orders, billing = reviewing(users, wait, module="Orders"), reviewing(users, wait, module="Billing")
    bob = users["engineer2"]
    service.assign_review(billing["id"], bob, user=users["admin"])
    queue = service.review_queue()
    assert queue["total"] == 2 and queue["modules"] == ["Billing", "Orders"]
    assert [i["module"] for i in queue["items"]] == ["Orders", "Billing"]

    mine = service.review_queue(user=bob, mine=True)
    assert [i["id"] for i in mine["items"]] == [billing["id"]] and mine["total"] == 1
    assert service.review_queue(user=users["engineer"], mine=True)["total"] == 0
    assert [i["id"] for i in service.review_queue(module="Orders")["items"]] == [orders["id"]]
    assert service.review_queue(module="Nowhere")["total"] == 0

    with session_scope() as session:
        for event in session.scalars(select(TaskEvent).where(TaskEvent.task_id == orders["id"],
                                                             TaskEvent.type == events.WORKFLOW_NEED_REVIEW)):
            event.created_at -= timedelta(hours=30)
        task = session.get(WorkflowTask, orders["id"])
        assert task is not None and task.review_asked_at is not None
        task.review_asked_at -= timedelta(hours=30)
    old = service.review_queue(min_wait_seconds=24 * 3600)
    assert [i["id"] for i in old["items"]] == [orders["id"]] and old["total"] == 1
    assert service.review_queue(min_wait_seconds=0)["total"] == 2
    with pytest.raises(InvalidInput):
        service.review_queue(min_wait_seconds=-1)
    with pytest.raises(InvalidInput):
        service.review_queue(mine=True)  # mine needs someone


def test_the_cli_shows_the_desk_and_assigns(demo, users, worker, wait, db_url) -> None:
    task = reviewing(users, wait, module="Orders")
    claimed = ok("review-desk", "claim", str(task["id"]), "--user", users["engineer"], db_url=db_url)
    assert claimed["reviewer"] == users["engineer"]
    assigned = ok("review-desk", "assign", str(task["id"]), "--assignee", users["engineer2"], "--user",
                  users["admin"], db_url=db_url)
    assert assigned["assignment"]["assignee"] == users["engineer2"]
    queue = ok("review-desk", "queue", "--mine", "--user", users["engineer2"], db_url=db_url)
    assert [i["id"] for i in queue["items"]] == [task["id"]]
    assert queue["items"][0]["claim"]["reviewer"] == users["engineer"]
    refused = cli("review-desk", "assign", str(task["id"]), "--assignee", users["engineer2"], "--user",
                  users["engineer"], db_url=db_url)
    assert refused.returncode == 2 and "Only admins" in refused.stderr
