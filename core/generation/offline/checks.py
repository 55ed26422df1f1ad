"""Response checks derived from a case's expected result and the scene's documented responses."""

from __future__ import annotations

import re
from typing import Any, Literal

from core.generation.offline.mentions import mentioned_fields, mentioned_keywords
from core.records import Check, DataRow, RowAssertions, SceneInput, TestCaseInput
from core.schema.responses import response_schema, success_status
from core.schema.walk import parse_pointer, resolve_refs

Polarity = Literal["success", "error", "unknown"]

CLAUSE_BREAK = re.compile(r"[；;。\n]|(?<=[.!?])\s+")
QUOTED = re.compile(r"[\"“「『‘]([^\"”」』’]{2,80})[\"”」』’]|(?<![A-Za-z])'([^']{2,80})'(?![A-Za-z])")
CONTAINS = re.compile(r"(?:message|msg|error)\s+contains\s+([\w\-]+)", re.IGNORECASE)
SUCCESS_WORDS = ("成功", "success", "created", "accepted", "正常")
ERROR_WORDS = ("失败", "错误", "error", "invalid", "reject", "拒绝", "不正确", "不合法", "无效", "fail", "不能", "超出")
ECHO_WORDS = ("一致", "相同", "same as", "matches the request", "echo")
ID_WORD = re.compile(r"(?<![a-z])id(?![a-z])", re.IGNORECASE)


def case_assertions(case: TestCaseInput, scene: SceneInput, rows: list[DataRow]) -> list[RowAssertions]:
    """Expected status and response checks for each row, same order.

    Checks stay conservative: each must hold against a real server that validates requests
    with the same schema and answers as documented.
    """
    clauses = classify(case["expected_result"])
    request = resolve_refs(scene["request_schema"])
    focus = mentioned_fields(request, _case_text(case))
    result: list[RowAssertions] = []
    for row in rows:
        checks = [Check(kind="status", path=None, expected=row["expected_status"])]
        if row["kind"] == "invalid":
            checks += _error_checks(scene, row, clauses, focus, request)
        else:
            checks += _success_checks(scene, row, clauses)
        result.append(RowAssertions(name=row["name"], expected_status=row["expected_status"], checks=_unique(checks)))
    return result


def _case_text(case: TestCaseInput) -> str:
    return "\n".join((case["title"], case["preconditions"], case["steps"], case["expected_result"]))


def classify(expected_result: str) -> list[tuple[str, Polarity]]:
    """The clauses of an expected result with their polarity; an unclear clause continues the one before it.

    When no clause describes an error, unclear leading clauses count as success.
    """
    texts = [text for text in CLAUSE_BREAK.split(expected_result) if text.strip()]
    found = [polarity(text) for text in texts]
    current: Polarity = "unknown" if "error" in found else "success"
    result: list[tuple[str, Polarity]] = []
    for text, kind in zip(texts, found, strict=True):
        current = kind if kind != "unknown" else current
        result.append((text, current))
    return result


def polarity(clause: str) -> Polarity:
    """Whether a clause of an expected result describes success, an error, or neither clearly."""
    lowered = clause.lower()
    codes = re.findall(r"(?<!\d)([245]\d\d)(?!\d)", clause)
    success = any(code.startswith("2") for code in codes) or any(word in lowered for word in SUCCESS_WORDS)
    error = any(code[0] in "45" for code in codes) or any(word in lowered for word in ERROR_WORDS)
    if success == error:
        return "unknown"
    return "success" if success else "error"


def quoted(clause: str) -> list[str]:
    """Quoted strings and "message contains X" words of a clause."""
    found = [first or second for first, second in QUOTED.findall(clause)]
    return found + CONTAINS.findall(clause)


def _success_checks(scene: SceneInput, row: DataRow, clauses: list[tuple[str, Polarity]]) -> list[Check]:
    schema = response_schema(scene["responses"], success_status(scene["responses"]))
    checks: list[Check] = []
    for clause, kind in clauses:
        if kind != "success":
            continue
        paths = _response_paths(schema, clause)
        checks += [Check(kind="json_path_exists", path=path, expected=None) for path in paths]
        checks += _echo_checks(row, paths, clause)
        checks += [Check(kind="body_contains", path=None, expected=text) for text in quoted(clause)]
    return checks


def _response_paths(schema: dict[str, Any] | None, clause: str) -> list[str]:
    """Dotted paths of documented response fields the clause names ("id" when nothing is documented)."""
    if schema is None:
        return ["id"] if ID_WORD.search(clause) else []
    pointers = mentioned_fields(resolve_refs(schema), clause)
    return [".".join(parse_pointer(pointer)) for pointer in pointers if "/0" not in pointer]


def _echo_checks(row: DataRow, paths: list[str], clause: str) -> list[Check]:
    """Response fields the clause says repeat the request's value, for top-level request fields."""
    if not any(word in clause.lower() for word in ECHO_WORDS):
        return []
    return [
        Check(kind="json_path_equals", path=path, expected=row["body"][path])
        for path in paths
        if "." not in path and path in row["body"]
    ]


def _error_checks(
    scene: SceneInput, row: DataRow, clauses: list[tuple[str, Polarity]], focus: list[str], request: dict[str, Any]
) -> list[Check]:
    schema = response_schema(scene["responses"], row["expected_status"])
    required = schema.get("required", []) if schema else []
    checks = [Check(kind="json_path_exists", path=name, expected=None) for name in required if isinstance(name, str)]
    if row["pointer"] not in focus:
        return checks
    for clause, kind in clauses:
        about_row = len(focus) == 1 or row["pointer"] in mentioned_fields(request, clause)
        if kind == "error" and about_row and row["keyword"] in mentioned_keywords(clause):
            checks += [Check(kind="body_contains", path=None, expected=text) for text in quoted(clause)]
    return checks


def _unique(checks: list[Check]) -> list[Check]:
    result: list[Check] = []
    for check in checks:
        if check not in result:
            result.append(check)
    return result

