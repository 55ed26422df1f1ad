"""Figures from a harness measurement: acceptance, rejection, agreement, checks, 5xx, and why rows failed.

Kinds: *positive* rows are the valid and boundary rows (the server should accept them, 2xx);
*invalid* rows should be rejected (4xx). Every figure counts data rows; runs are numbered from 1.
Each valid or boundary row answered 4xx gets one cause, read from the status and the error
message the run stored (``response_excerpt``, the first 500 characters of the answer); each
invalid row answered 2xx is counted under the keyword it targeted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from core.library.response_checks import row_checks

POSITIVE = ("valid", "boundary")
EXAMPLES = 5
BODY_CHARS = 240
EXCERPT_CHARS = 300

CAUSES = (
    "duplicate/uniqueness (409)",
    "path parameter: no such resource (404)",
    "path parameter: value refused",
    "body references a missing resource (404)",
    "auth (401/403)",
    "cross-field rule",
    "pattern/case",
    "enum",
    "format",
    "length/range",
    "required field missing",
    "unknown field",
    "type",
    "rule not in the schema (custom validator)",
    "other",
)

# the error's type in FastAPI's {"detail": [{"type": ...}]} (pydantic v2 names, or JSON Schema keywords) -> cause
ERROR_TYPES: tuple[tuple[str, str], ...] = (
    (r"^missing|^required$", "required field missing"),
    (r"^extra_forbidden$|^additionalProperties$|^unevaluatedProperties$", "unknown field"),
    (r"pattern", "pattern/case"),
    (r"^(enum|literal_error|const)$", "enum"),
    (r"^(datetime|date|time|timezone|uuid|url|json|email|ip|decimal)_|_parsing$|^format$", "format"),
    (r"too_(long|short)|^(greater|less)_than|^multiple_of|_max_|_min_|^(min|max)(Length|Items|imum|Properties)$|"
     r"^exclusive(Min|Max)imum$|^multipleOf$", "length/range"),
    (r"_type$|^(model|dict|list|tuple|set)_|_type_error|^type$", "type"),
)
CUSTOM_TYPES = re.compile(r"^(value_error|assertion_error|custom)")
"""Errors a validator function raised: the message says which rule, else it is a rule the schema does not state."""

# words in any error message -> cause, tried in order when no structured type says more
MESSAGE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"mutually exclusive|exactly one of|at least one of|only one of|both (are )?set|cannot both|"
     r"cannot be (set|used|combined|given) "
     r"(when|with|together)|must not be (set|given) (when|with)|(must|should) be (before|after|earlier|later) "
     r"than|(start|from)\w* (must|should|cannot) be (after|later)|is required when|requires .+ to be set",
     "cross-field rule"),
    (r"already exist|duplicate|unique|conflict", "duplicate/uniqueness (409)"),
    (r"additional propert|extra (inputs|fields?)|unknown (field|propert|key)|unrecognized|not permitted|"
     r"unexpected (field|propert|key)", "unknown field"),
    (r"field required|is required|required propert|missing (required|field|propert)|must have required|"
     r"\brequired\b",
     "required field missing"),
    (r"pattern|does not match|lower ?case|upper ?case|invalid characters?|must match|regex|slug|identifier",
     "pattern/case"),
    (r"\benum\b|one of|valid choice|allowed values|should be '", "enum"),
    (r"too (long|short|large|small|big|many|few)|at (most|least)|(less|greater|more) than|maximum|minimum|"
     r"length|exceed|out of range", "length/range"),
    (r"date-?time|\bdate\b|\btime ?zone|tzdata|uuid|e-?mail|\burl\b|\buri\b|format|iso ?8601|cron|base64|json",
     "format"),
    (r"valid (integer|string|number|boolean|dict|list|object|array)|not of type|wrong type|must be (an? )?"
     r"(integer|string|number|boolean|object|array)|expected (an? )?(integer|string|number|boolean|object|array)",
     "type"),
)


def analyse(measured: dict[str, Any]) -> dict[str, Any]:
    """Every figure of one server and provider (see the module's docstring)."""
    rows = list(_rows(measured))
    runs = measured["runs"]
    by_kind = Counter(row["kind"] for row in rows)
    operations = len(measured["cases"])
    figures: dict[str, Any] = {
        "server": measured["server"], "provider": measured["provider"], "facts": measured["facts"],
        "document": measured["document"], "seconds": measured["seconds"],
        "operations": measured["operations"], "cases": operations, "failed_tasks": measured["failed_tasks"],
        "rows": {kind: by_kind.get(kind, 0) for kind in ("valid", "boundary", "invalid")},
        "rows_per_operation": {kind: round(by_kind.get(kind, 0) / operations, 2) if operations else 0.0
                               for kind in ("valid", "boundary", "invalid")},
        "runs": [_run_figures(rows, index) for index in range(runs)],
        "agreement": _agreement(rows, runs),
        "server_errors": _server_errors(rows),
        "causes": _causes(rows),
        "invalid_accepted": _invalid_accepted(rows),
        "drift": _drift(rows),
        "per_operation": _per_operation(measured),
        "self_flagged": _self_flagged(measured, rows),
    }
    figures["without_path_parameters"] = _run_figures([row for row in rows if not row["path_parameters"]], 0)
    figures["with_setup"] = _run_figures([row for row in rows if row["setup"]], 0)
    figures["coverage"] = measured.get("coverage")
    figures["learning"] = measured.get("learning") or []
    return figures


def _rows(measured: dict[str, Any]) -> Any:
    """One flat record per data row: its scene, what it sent, and its outcome in each run."""
    for case in measured["cases"]:
        scene = case["scene"]
        for index, row in enumerate(case["rows"]):
            outcomes = [run[index] for run in case["runs"] if index < len(run)]
            yield {"schema_problems": (case.get("schema_problems") or {}).get(str(index), []),
                   "operation": scene["id"], "method": scene["method"], "path": scene["path"],
                   "path_parameters": scene["path_parameters"], "setup": case.get("setup", 0),
                   "name": row["name"], "kind": row["kind"],
                   "keyword": row.get("keyword"), "pointer": row.get("pointer"), "body": row.get("body"),
                   "expected_status": row["expected_status"], "checks": len(row_checks(row)), "outcomes": outcomes}


def status_class(outcome: dict[str, Any] | None) -> str:
    """"2xx", "3xx", "4xx", "5xx", or "none" when no answer came."""
    code = (outcome or {}).get("status_code")
    return f"{code // 100}xx" if isinstance(code, int) else "none"


def _ratio(part: int, whole: int) -> dict[str, Any]:
    return {"n": part, "of": whole, "pct": round(100 * part / whole, 1) if whole else None}


def _run_figures(rows: list[dict[str, Any]], index: int) -> dict[str, Any]:
    ran = [row for row in rows if len(row["outcomes"]) > index]
    positive = [row for row in ran if row["kind"] in POSITIVE]
    valid = [row for row in positive if row["kind"] == "valid"]
    boundary = [row for row in positive if row["kind"] == "boundary"]
    invalid = [row for row in ran if row["kind"] == "invalid"]

    def share(group: list[dict[str, Any]], cls: str) -> dict[str, Any]:
        return _ratio(sum(1 for row in group if status_class(row["outcomes"][index]) == cls), len(group))

    checks = sum(row["checks"] for row in ran)
    failed_checks = sum(min(row["checks"], len(row["outcomes"][index].get("failures") or []))
                        for row in ran)
    return {
        "positive_2xx": share(positive, "2xx"), "valid_2xx": share(valid, "2xx"),
        "boundary_2xx": share(boundary, "2xx"), "positive_4xx": share(positive, "4xx"),
        "invalid_4xx": share(invalid, "4xx"), "invalid_2xx": share(invalid, "2xx"),
        "5xx": share(ran, "5xx"), "no_answer": share(ran, "none"),
        "rows_passed": _ratio(sum(1 for row in ran if row["outcomes"][index].get("passed")), len(ran)),
        "checks_passed": _ratio(checks - failed_checks, checks),
    }


def _agreement(rows: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    """Rows whose pass/fail on each later run equals the first run's."""
    if runs < 2:
        return _ratio(0, 0)
    both = [row for row in rows if len(row["outcomes"]) >= 2]
    same = sum(1 for row in both if all(outcome.get("passed") == row["outcomes"][0].get("passed")
                                        for outcome in row["outcomes"][1:]))
    return _ratio(same, len(both))


def _example(row: dict[str, Any], outcome: dict[str, Any], run: int) -> dict[str, Any]:
    body = json.dumps(row["body"], ensure_ascii=False)
    return {"operation": row["operation"], "method": row["method"], "url": outcome.get("url") or row["path"],
            "row": row["name"], "kind": row["kind"], "keyword": row["keyword"], "pointer": row["pointer"],
            "run": run, "body": body if len(body) <= BODY_CHARS else body[:BODY_CHARS] + "...",
            "status": outcome.get("status_code"),
            "answer": " ".join(str(outcome.get("response_excerpt") or "").split())[:EXCERPT_CHARS]}


def _server_errors(rows: list[dict[str, Any]]) -> dict[str, Any]:
    found = [(row, outcome, index + 1) for row in rows for index, outcome in enumerate(row["outcomes"])
             if status_class(outcome) == "5xx"]
    operations = Counter(row["operation"] for row, _, _ in found)
    return {"count": len(found), "by_operation": dict(operations.most_common()),
            "examples": [_example(row, outcome, run) for row, outcome, run in _spread(found)]}


def _spread(found: list[tuple[dict[str, Any], dict[str, Any], int]]) -> list[Any]:
    """Up to EXAMPLES items: one per operation first, then other rows, then the rest (a row's other runs)."""
    chosen: list[Any] = []
    for key in (lambda row: row["operation"], lambda row: (row["operation"], row["name"]), lambda row: object()):
        seen = {key(item[0]) for item in chosen}
        for item in found:
            if len(chosen) >= EXAMPLES:
                return chosen
            if item not in chosen and key(item[0]) not in seen:
                chosen.append(item)
                seen.add(key(item[0]))
    return chosen


def _causes(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each positive row answered 4xx, by cause, per run: {run: {cause: {count, examples}}}."""
    result: dict[str, Any] = {}
    for index in range(max((len(row["outcomes"]) for row in rows), default=0)):
        found: dict[str, list[Any]] = {}
        for row in rows:
            if row["kind"] in POSITIVE and len(row["outcomes"]) > index \
                    and status_class(row["outcomes"][index]) == "4xx":
                outcome = row["outcomes"][index]
                cause = classify(outcome["status_code"], outcome.get("response_excerpt") or "",
                                 bool(row["path_parameters"]))
                found.setdefault(cause, []).append((row, outcome, index + 1))
        result[str(index + 1)] = {
            cause: {"count": len(found[cause]),
                    "operations": len({row["operation"] for row, _, _ in found[cause]}),
                    "examples": [_example(row, outcome, run) for row, outcome, run in _spread(found[cause])]}
            for cause in CAUSES if cause in found
        }
    return result


def _invalid_accepted(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Invalid rows answered 2xx on the first run, by the keyword they targeted."""
    found: dict[str, list[Any]] = {}
    for row in rows:
        if row["kind"] == "invalid" and row["outcomes"] and status_class(row["outcomes"][0]) == "2xx":
            found.setdefault(row["keyword"] or "?", []).append((row, row["outcomes"][0], 1))
    ordered = sorted(found, key=lambda keyword: -len(found[keyword]))
    return {keyword: {"count": len(found[keyword]),
                      "examples": [_example(row, outcome, run) for row, outcome, run in _spread(found[keyword])]}
            for keyword in ordered}


def _self_flagged(measured: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Valid and boundary rows whose body CaseFlow's own validation rejects (None when the run did not check)."""
    if not all("schema_problems" in case for case in measured["cases"]) or not measured["cases"]:
        return None
    positive = [row for row in rows if row["kind"] in POSITIVE]
    flagged = [row for row in positive if row["schema_problems"]]
    refused = [row for row in flagged if row["outcomes"] and status_class(row["outcomes"][0]) == "4xx"]
    return {**_ratio(len(flagged), len(positive)), "refused": len(refused),
            "examples": [{"operation": row["operation"], "row": row["name"], "problems": row["schema_problems"][:3]}
                         for row in flagged[:EXAMPLES]]}


def _drift(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Positive rows answered a 2xx other than the one they expect (first run): documented -> answered."""
    pairs = Counter(f"{row['expected_status']} -> {row['outcomes'][0]['status_code']}" for row in rows
                    if row["kind"] in POSITIVE and row["outcomes"] and status_class(row["outcomes"][0]) == "2xx"
                    and row["outcomes"][0]["status_code"] != row["expected_status"])
    return {"count": sum(pairs.values()), "pairs": dict(pairs.most_common())}


def _per_operation(measured: dict[str, Any]) -> list[dict[str, Any]]:
    result = []
    for case in measured["cases"]:
        rows = list(_rows({"cases": [case]}))
        kinds = Counter(row["kind"] for row in rows)
        first = _run_figures(rows, 0)
        second = _run_figures(rows, 1) if measured["runs"] > 1 else None
        result.append({
            "operation": case["scene"]["id"], "method": case["scene"]["method"], "path": case["scene"]["path"],
            "rows": {kind: kinds.get(kind, 0) for kind in ("valid", "boundary", "invalid")},
            "positive_2xx": first["positive_2xx"], "invalid_4xx": first["invalid_4xx"],
            "positive_2xx_run2": second["positive_2xx"] if second else None, "5xx": first["5xx"]["n"],
        })
    return result


def classify(status: int, answer: str, has_path_parameters: bool) -> str:
    """The cause of a 4xx answer to a row that should have been accepted."""
    if status == 409:
        return "duplicate/uniqueness (409)"
    if status in (401, 403):
        return "auth (401/403)"
    if status in (404, 410):
        return "path parameter: no such resource (404)" if has_path_parameters \
            else "body references a missing resource (404)"
    items = _detail_items(answer)
    if any(location.startswith("path") for _, _, location in items):
        return "path parameter: value refused"
    for error_type, message, _ in items:
        for pattern, cause in ERROR_TYPES:
            if re.search(pattern, error_type):
                return cause
        if CUSTOM_TYPES.search(error_type):
            return _from_message(message) or "rule not in the schema (custom validator)"
    return _from_message(answer) or "other"


def _from_message(text: str) -> str | None:
    lowered = text.lower()
    return next((cause for pattern, cause in MESSAGE_PATTERNS if re.search(pattern, lowered)), None)


ERROR_LISTS = ("detail", "exception_detail", "errors", "validation", "details")
"""Where servers list validation errors: FastAPI, Prefect, many, Prism (problem+json), Kinto/Cornice."""


def _detail_items(answer: str) -> list[tuple[str, str, str]]:
    """(type, message, location) of each listed validation error, also from an answer cut short."""
    try:
        parsed = json.loads(answer)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for key in ERROR_LISTS:
            if isinstance(parsed.get(key), list):
                return [_item(item) for item in parsed[key] if isinstance(item, dict)]
        return []
    found = re.findall(r'"(?:type|code)"\s*:\s*"([A-Za-z_.]+)"(?:[^{}]*?"(?:msg|message)"\s*:\s*"([^"]*))?', answer)
    return [(kind, message, "") for kind, message in found]


def _item(item: dict[str, Any]) -> tuple[str, str, str]:
    location = item.get("loc", item.get("location", ""))
    if isinstance(location, list):
        location = ".".join(str(part) for part in location)
    return (str(item.get("type") or item.get("code") or ""),
            str(item.get("msg") or item.get("message") or item.get("description") or ""), str(location or ""))
