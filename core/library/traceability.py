"""Where each row and each check comes from in the manual test case: its step, its expected result's clause.

A reviewer reads "row valid_minimal ← step 2 'Submit the form'" and "status 201 ← 'returns 201
with the new id'"; an expected-result clause no check traces to is flagged, because the case then
does not verify something the manual case expects. The trace is derived from the texts (numbers,
field names, quoted values, success or error wording), the same way for every provider, so it
needs nothing stored.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from core.generation.offline.checks import ECHO_WORDS, classify

STEP_NUMBER = re.compile(r"^\s*(?:\d+[.、)）]|[-*•])\s*")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+|[\u4e00-\u9fff]{2,}")
SENDING = ("send", "submit", "call", "request", "create", "update", "提交", "发送", "调用", "请求", "创建", "修改")
"""Words of a step that sends a request (each counts), beside the operation's own words and the body's fields."""


class CheckTrace(TypedDict):
    check: str
    """The check as the reviewer reads it: "status 201", "data.id exists"."""
    clause: str | None
    """The expected result's clause it verifies; None: it comes from the document alone."""


class RowTrace(TypedDict):
    name: str
    step: str | None
    """The test case's step that sends the row's request; None when the case has no steps."""
    checks: list[CheckTrace]


class Trace(TypedDict):
    rows: list[RowTrace]
    untraced: list[str]
    """The expected result's clauses that no check of any row verifies."""


def trace(steps: str, expected_result: str, method: str, path: str, rows: list[dict[str, Any]]) -> Trace:
    """The trace of ``rows`` (with their ``checks``) to the test case's steps and expected result."""
    lines = [STEP_NUMBER.sub("", line).strip() for line in steps.splitlines() if line.strip()]
    clauses = classify(expected_result)
    traced: set[str] = set()
    found = []
    for row in rows:
        checks = []
        for check in row.get("checks") or []:
            clause = _clause(check, row, clauses)
            traced.update([clause] if clause else [])
            checks.append(CheckTrace(check=describe(check), clause=clause))
        found.append(RowTrace(name=str(row.get("name")), step=_step(lines, method, path, row), checks=checks))
    untraced = [text.strip() for text, _ in clauses if text not in traced and _verifiable(text)]
    return Trace(rows=found, untraced=untraced)


def describe(check: dict[str, Any]) -> str:
    kind, path, expected = check.get("kind"), check.get("path"), check.get("expected")
    if kind == "status":
        return f"status {expected}"
    if kind == "json_path_exists":
        return f"{path} exists"
    if kind == "json_path_equals":
        return f"{path} = {expected!r}"
    return f"body contains {expected!r}"


def _clause(check: dict[str, Any], row: dict[str, Any], clauses: list[tuple[str, str]]) -> str | None:
    """The clause naming what the check checks: its status number, its field's last word (a field that echoes
    the request: a clause saying so), its text; a status check otherwise takes the first clause of the row's
    polarity (success for valid and boundary rows)."""
    kind, expected = check.get("kind"), check.get("expected")
    if kind == "status":
        number = re.compile(rf"(?<!\d){expected}(?!\d)")
        named = next((text for text, _ in clauses if number.search(text)), None)
        wanted = "error" if row.get("kind") == "invalid" else "success"
        return named or next((text for text, polarity in clauses if polarity == wanted), None)
    if kind in ("json_path_exists", "json_path_equals"):
        last = str(check.get("path") or "").rsplit(".", 1)[-1]
        named = next((text for text, _ in clauses if last and re.search(rf"(?<![A-Za-z]){re.escape(last)}(?![A-Za-z])",
                                                                          text, re.IGNORECASE)), None)
        echoed = kind == "json_path_equals" and isinstance(row.get("body"), dict) and row["body"].get(last) == expected
        says_echo = (text for text, _ in clauses if echoed and any(word in text.lower() for word in ECHO_WORDS))
        return named or next(says_echo, None)
    return next((text for text, _ in clauses if str(expected) and str(expected) in text), None)


def _step(lines: list[str], method: str, path: str, row: dict[str, Any]) -> str | None:
    """The step that sends the request: the one sharing most words with the operation, the row's fields and
    the sending verbs; the first of equals."""
    if not lines:
        return None
    body = row.get("body")
    words = {word.lower() for word in WORD.findall(f"{method} {path}")}
    words |= {str(key).lower() for key in body} if isinstance(body, dict) else set()

    def score(line: str) -> int:
        lowered = line.lower()
        return sum(word in lowered for word in words) + 2 * sum(verb in lowered for verb in SENDING)

    return max(lines, key=lambda line: (score(line), -lines.index(line)))


def _verifiable(text: str) -> bool:
    """Whether a clause says something a response could show (not an empty fragment)."""
    return len(WORD.findall(text)) > 0 or any(char.isdigit() for char in text)
