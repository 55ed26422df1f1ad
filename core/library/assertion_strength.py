"""Assertion strength: would a case's checks fail on a wrong response? Wrong answers made from a run's responses.

For each row that passed in a stored run, with its response kept whole (``runs.recorded_response``),
wrong responses (mutants) are made from the recorded one and judged with the row's checks as a run
judges them (``response_checks.judge``):

- status mutants: the recorded body with a status of another class (200, 400 or 500; a status of the
  same class is spec drift, which a run lets pass on purpose);
- body mutants, the status kept: the body emptied (``{}``, ``[]`` or nothing); each field a
  ``json_path_*`` check reads removed, and altered (another value); each text a ``body_contains``
  check looks for taken out.

A mutant is caught when the row fails on it. A row is weak when a status mutant passes it, or when it
has body mutants and passes every one (nothing it checks tells a wrong body from the right one). A case
is weak when any assessed row is weak, strong when it has assessed rows and none is weak, and unknown
when it has none (never run, or no row passed with its response kept whole).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from sqlalchemy import select

from core.database import session_scope
from core.errors import NotFound
from core.library.response_checks import MISSING, judge, row_checks, value_at
from core.library.runs import RECORDED_BODY_CHARS, recorded_response
from core.messages import Text, phrase
from db.models import AutomationCase, CaseRun

STATUS_MUTANTS = (200, 400, 500)
"""One status of each class a row's answer is wrongly given."""
Verdict = Literal["strong", "weak", "unknown"]


@dataclass(frozen=True)
class Mutant:
    """A wrong response: what was changed (its status, or its body with the status kept), the status and body."""

    what: str
    status: int
    text: str
    changes: Literal["status", "body"] = "body"


class RowStrength(TypedDict):
    name: str
    verdict: Literal["strong", "weak", "skipped"]
    mutants: int
    caught: int
    survivors: list[str]
    """What the mutants the row passes changed ("status 200", "body emptied", "id altered" ...)."""
    reason: str | None
    """Why a row is weak or skipped."""


def assess(case_id: int, run_id: int | None = None) -> dict[str, Any]:
    """The strength of a case's checks on a stored run (its latest by default):
    {case_id, code, run_id, verdict, mutants, caught, weak_rows, rows}."""
    with session_scope(read_only=True) as session:
        case = session.get(AutomationCase, case_id)
        if case is None:
            raise NotFound("No automation case with id {case_id} (UC{case_id}).", case_id=case_id)
        query = select(CaseRun).where(CaseRun.case_id == case_id)
        query = query.where(CaseRun.id == run_id) if run_id is not None else query.order_by(CaseRun.id.desc())
        run = session.scalars(query.limit(1)).first()
        if run is None and run_id is not None:
            raise NotFound("{code} has no run with id {run_id}.", code=case.code, run_id=run_id)
        rows = {str(row.get("name")): row for row in case.rows if isinstance(row, dict)}
        outcomes = list(run.rows) if run is not None else []
        found = [row_strength(rows[str(outcome.get("name"))], outcome) for outcome in outcomes
                 if str(outcome.get("name")) in rows]
        assessed = [row for row in found if row["verdict"] != "skipped"]
        weak = [row["name"] for row in assessed if row["verdict"] == "weak"]
        verdict: Verdict = "unknown" if not assessed else "weak" if weak else "strong"
        return {"case_id": case.id, "code": case.code, "run_id": run.id if run is not None else None,
                "verdict": verdict, "mutants": sum(row["mutants"] for row in assessed),
                "caught": sum(row["caught"] for row in assessed), "weak_rows": weak, "rows": found}


def row_strength(row: dict[str, Any], outcome: dict[str, Any]) -> RowStrength:
    """How the row's checks fare on the mutants of the response it got in a run."""
    status, text = outcome.get("status_code"), recorded_response(outcome)
    skipped = _skip_reason(row, outcome, text)
    if skipped is not None or not isinstance(status, int) or text is None:
        return RowStrength(name=str(row.get("name")), verdict="skipped", mutants=0, caught=0, survivors=[],
                           reason=skipped)
    made = mutants(status, text, row_checks(row))
    survivors = [mutant for mutant in made if not judge(row, mutant.status, mutant.text)[0]]
    reason = _weakness(made, survivors)
    return RowStrength(name=str(row.get("name")), verdict="weak" if reason else "strong", mutants=len(made),
                       caught=len(made) - len(survivors), survivors=[mutant.what for mutant in survivors],
                       reason=reason)


def _skip_reason(row: dict[str, Any], outcome: dict[str, Any], text: str | None) -> str | None:
    """Why the row cannot be assessed on this outcome, or None when it can."""
    status = outcome.get("status_code")
    if not outcome.get("passed") or not isinstance(status, int):
        return phrase("it failed in the run: a wrong answer tells nothing about checks that already fail")
    if text is None:
        return Text("its response was not kept whole (longer than {limit} characters, or recorded "
                    "before responses were kept)", limit=RECORDED_BODY_CHARS)
    if judge(row, status, text)[0]:
        return phrase("its checks fail on the recorded response (a secret the run masked?)")
    return None


def _weakness(made: list[Mutant], survivors: list[Mutant]) -> str | None:
    wrong_status = [mutant.what for mutant in survivors if mutant.changes == "status"]
    if wrong_status:
        return Text("it passes a response with {mutant}", mutant=wrong_status[0])
    bodies = [mutant for mutant in made if mutant.changes == "body"]
    if bodies and all(mutant in survivors for mutant in bodies):
        return phrase("it passes every wrong body given with the right status: its checks read nothing of the body")
    return None


def mutants(status: int, text: str, checks: list[Any]) -> list[Mutant]:
    """The wrong responses made from one recorded response (``status``, ``text``) for these checks."""
    made = [Mutant(f"status {code}", code, text, "status") for code in STATUS_MUTANTS if code // 100 != status // 100]
    document = value_at(text, "")
    if isinstance(document, (dict, list)):
        if document:
            made.append(Mutant("body emptied", status, _dumps(type(document)())))
    elif text:
        made.append(Mutant("body emptied", status, ""))
    for path in dict.fromkeys(check.get("path") or "" for check in checks if isinstance(check, dict)
                              and check.get("kind") in ("json_path_exists", "json_path_equals")):
        if isinstance(path, str) and value_at(text, path) is not MISSING:
            made += _field_mutants(document, path, status)
    for expected in dict.fromkeys(str(check.get("expected")) for check in checks if isinstance(check, dict)
                                  and check.get("kind") == "body_contains"):
        if expected and expected in text:
            made.append(Mutant(f"{expected[:40]!r} taken out", status, text.replace(expected, "")))
    return made


def _field_mutants(document: Any, path: str, status: int) -> list[Mutant]:
    """The field at ``path`` removed, and altered."""
    parts = path.split(".") if path else []
    if not parts:
        return [Mutant("body removed", status, ""), Mutant("body altered", status, _dumps(altered(document)))]
    removed, changed = copy.deepcopy(document), copy.deepcopy(document)
    parent, key = _parent(removed, parts)
    del parent[key]
    parent, key = _parent(changed, parts)
    parent[key] = altered(parent[key])
    return [Mutant(f"{path} removed", status, _dumps(removed)), Mutant(f"{path} altered", status, _dumps(changed))]


def _parent(document: Any, parts: list[str]) -> tuple[Any, Any]:
    """The container of the value at a dotted path and its key there, read the way ``value_at`` reads it."""
    node: Any = document
    for part in parts[:-1]:
        node = node[_key(node, part)]
    return node, _key(node, parts[-1])


def _key(node: Any, part: str) -> Any:
    return part if isinstance(node, dict) else int(part)


def altered(value: Any) -> Any:
    """Another value where ``value`` was: true for false, 1 more, a longer text, an emptied (or filled) container."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return f"{value}_mutated"
    if isinstance(value, list):
        return [] if value else [None]
    if isinstance(value, dict):
        return {} if value else {"mutated": True}
    return "mutated"


def _dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False)
