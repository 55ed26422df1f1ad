"""Each row's step and each check's clause in the manual test case; clauses that no check verifies are flagged."""

from __future__ import annotations

from core.library.traceability import trace

STEPS = "1. Open the registration page\n2. Submit the form with username and email\n3. Check the answer"
EXPECTED = "Returns 201 with the new user's id; the welcome email is sent within a minute"


def row(name: str, kind: str, *checks: dict) -> dict:
    return {"name": name, "kind": kind, "body": {"username": "amy", "email": "a@b.cn"}, "checks": list(checks)}


def status(code: int) -> dict:
    return {"kind": "status", "path": None, "expected": code}


def test_rows_take_the_step_that_sends_them_and_checks_the_clause_they_verify() -> None:
    found = trace(STEPS, EXPECTED, "POST", "/users", [
        row("valid", "valid", status(201), {"kind": "json_path_exists", "path": "data.id", "expected": None}),
        row("invalid_email", "invalid", status(422))])
    valid, invalid = found["rows"]
    assert valid["step"] == invalid["step"] == "Submit the form with username and email"
    assert [check["clause"] for check in valid["checks"]] == ["Returns 201 with the new user's id"] * 2
    assert valid["checks"][1]["check"] == "data.id exists"
    assert invalid["checks"] == [{"check": "status 422", "clause": None}], "the document's error status alone"
    assert found["untraced"] == ["the welcome email is sent within a minute"], "nothing checks the email"


def test_an_echoed_field_traces_to_the_clause_that_says_the_answer_matches_the_request() -> None:
    echo = {"kind": "json_path_equals", "path": "data.username", "expected": "amy"}
    found = trace(STEPS, "返回201；返回的用户名与请求一致", "POST", "/users",
                  [row("valid", "valid", status(201), echo)])
    assert [check["clause"] for check in found["rows"][0]["checks"]] == ["返回201", "返回的用户名与请求一致"]
    assert found["untraced"] == []


def test_chinese_clauses_trace_by_number_and_wording() -> None:
    found = trace("1. 输入用户名\n2. 提交注册请求", "注册成功，返回200；用户名重复时提示错误", "POST", "/register",
                  [row("valid", "valid", status(200)), row("dup", "invalid", status(409))])
    valid, duplicate = found["rows"]
    assert valid["step"] == "提交注册请求" and valid["checks"][0]["clause"] == "注册成功，返回200"
    assert duplicate["checks"][0]["clause"] == "用户名重复时提示错误", "an error row: the clause describing an error"
    assert found["untraced"] == []


def test_a_case_without_steps_or_checks_traces_nothing_and_flags_every_clause() -> None:
    found = trace("", "The order is stored", "POST", "/orders", [{"name": "r", "kind": "valid", "body": {}}])
    assert found == {"rows": [{"name": "r", "step": None, "checks": []}], "untraced": ["The order is stored"]}
