"""The search for the fields a server fails on: what it finds, and what it leaves alone."""

from __future__ import annotations

from typing import Any

from core.library.failing_fields import Budget, Outcome, failing_fields


def filters(body: Any) -> Outcome:
    """A count endpoint: ``filter`` required; fails when ``filter.occurred`` is an empty range or ``tags`` is sent."""
    if not isinstance(body.get("filter"), dict):
        return "refused"
    occurred = body["filter"].get("occurred") or {}
    if (occurred and occurred.get("since") == occurred.get("until")) or "tags" in body["filter"]:
        return "fails"
    return "accepted"


def test_a_field_inside_a_required_object_is_found() -> None:
    body = {"filter": {"event": {"name": ["a"]}, "occurred": {"since": 1, "until": 1}}, "limit": 5}
    assert failing_fields(filters, body, Budget(60)) == ["/filter/occurred/since"]


def test_two_fields_that_each_fail_the_server_are_both_found() -> None:
    body = {"filter": {"tags": ["x"], "occurred": {"since": 1, "until": 1}}, "limit": 5}
    assert failing_fields(filters, body, Budget(60)) == ["/filter/tags", "/filter/occurred/since"]


def test_nothing_is_named_when_the_budget_runs_out_or_no_field_explains_it() -> None:
    body = {"filter": {"occurred": {"since": 1, "until": 1}}, "limit": 5}
    assert failing_fields(filters, body, Budget(2)) == []
    assert failing_fields(lambda _: "fails", body, Budget(60)) == []
    sent: list[Any] = []
    assert failing_fields(lambda sent_body: sent.append(sent_body) or "fails", {"a": 1}, Budget(3)) == []
    assert len(sent) == 1, "a body with one member: one send"
