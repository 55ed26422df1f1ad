"""Assertion strength on recorded responses: the wrong responses made, and which rows they show to be weak."""

from __future__ import annotations

import json
from typing import Any

from core.library.assertion_strength import altered, mutants, row_strength
from core.library.runs import EXCERPT_CHARS

BODY = json.dumps({"booking_id": "BK12345678", "status": "held", "total": {"amount": 10.5}, "tags": ["a"]})


def outcome(text: str = BODY, status: int = 201, passed: bool = True) -> dict[str, Any]:
    recorded = {"response_body": text} if len(text) >= EXCERPT_CHARS else {}
    return {"name": "r", "status_code": status, "passed": passed, "response_excerpt": text[:EXCERPT_CHARS],
            **recorded}


def row(*checks: dict[str, Any], expected: int = 201) -> dict[str, Any]:
    return {"name": "r", "kind": "valid", "expected_status": expected, "checks": [
        {"kind": "status", "path": None, "expected": expected}, *checks]}


def test_the_mutants_of_a_response_follow_its_checks() -> None:
    checks = [{"kind": "json_path_equals", "path": "total.amount", "expected": 10.5},
              {"kind": "json_path_exists", "path": "tags.0", "expected": None},
              {"kind": "json_path_exists", "path": "missing", "expected": None},
              {"kind": "body_contains", "path": None, "expected": "held"}]
    made = {mutant.what: mutant for mutant in mutants(201, BODY, checks)}
    assert list(made) == ["status 400", "status 500", "body emptied", "total.amount removed", "total.amount altered",
                          "tags.0 removed", "tags.0 altered", "'held' taken out"], "no mutant of an absent field"
    assert made["status 400"].text == BODY and made["body emptied"].text == "{}"
    assert json.loads(made["total.amount altered"].text)["total"] == {"amount": 11.5}
    assert json.loads(made["tags.0 removed"].text)["tags"] == []
    assert "held" not in made["'held' taken out"].text
    assert {mutant.status for name, mutant in made.items() if not name.startswith("status")} == {201}
    assert [mutant.what for mutant in mutants(422, "not json", [])] == ["status 200", "status 500", "body emptied"]
    assert [mutant.what for mutant in mutants(204, "", [])] == ["status 400", "status 500"]
    assert [altered(value) for value in (True, 3, "x", [], {"a": 1}, None)] == \
        [False, 4, "x_mutated", [None], {}, "mutated"]


def test_a_row_that_checks_only_the_status_is_weak_and_one_that_reads_the_body_is_strong() -> None:
    weak = row_strength(row(), outcome())
    assert weak["verdict"] == "weak" and weak["survivors"] == ["body emptied"] and weak["caught"] == 2
    assert "every wrong body" in weak["reason"]
    strong = row_strength(row({"kind": "json_path_equals", "path": "status", "expected": "held"}), outcome())
    assert strong == {"name": "r", "verdict": "strong", "mutants": 5, "caught": 5, "survivors": [], "reason": None}
    exists = row_strength(row({"kind": "json_path_exists", "path": "booking_id", "expected": None}), outcome())
    assert exists["verdict"] == "strong" and exists["survivors"] == ["booking_id altered"]
    empty = row_strength(row(expected=204), outcome("", 204))
    assert empty["verdict"] == "strong" and empty["mutants"] == 2, "no body: only its status can be wrong"
    drifting = row_strength(row({"kind": "json_path_equals", "path": "status", "expected": "held"}, expected=200),
                            outcome(status=201))
    assert drifting["verdict"] == "strong", "a documented 200 answered 201 is drift, judged as the run judged it"


def test_rows_that_failed_or_were_not_kept_whole_are_skipped() -> None:
    failed = row_strength(row(), outcome(passed=False))
    assert failed["verdict"] == "skipped" and "failed in the run" in failed["reason"]
    cut = {**outcome("x" * 5000), "response_body": None}
    assert "not kept whole" in row_strength(row(), cut)["reason"]
    masked = row_strength(row({"kind": "body_contains", "path": None, "expected": "secret"}), outcome())
    assert masked["verdict"] == "skipped" and "fail on the recorded response" in masked["reason"]
