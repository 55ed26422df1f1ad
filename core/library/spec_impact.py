"""What a new version of an OpenAPI document breaks: the automation cases and rows it makes wrong.

Assessed before anything is replaced, from the stored scenes (the document as it is now) and
the scenes the new version becomes. Only what the change itself breaks is named: a row that was
already wrong under the stored scene (a reviewer's edit, say) is left out. Every automation case
was approved by a reviewer, so every case counts.

Reasons, by ``kind``:

- ``operation_removed``: the case's operation is not in the new document (nothing to regenerate against);
- ``operation_moved``: its method or path changed (the case sends the old one);
- ``setup``: a setup step sends an operation the new document removes or moves;
- ``field_removed``: the row sends a field the stored scene had and the new one does not;
- ``field_required``: the new document requires a field the row does not send;
- ``constraint``: the row's body no longer does what its kind says under the new schema (a valid or
  boundary row breaks a tightened limit, an invalid row is now valid or breaks something else too),
  checked with ``core.schema.validation`` as step 5 checks rows;
- ``status``: the row expects a status the stored scene documents and the new one does not.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from core.library.response_checks import row_checks
from core.schema import variables
from core.schema.validation import BodyError, intent_problem, validate_body
from core.schema.walk import (
    InvalidSchemaError,
    display,
    members,
    related,
    remove_at,
    resolve_refs,
    schema_pointer,
    walk,
)
from db.models import AutomationCase, Scene, TestCase

MESSAGE_CHARS = 300
ROW_KINDS = ("valid", "boundary", "invalid")


@dataclass(frozen=True, kw_only=True)
class Version:
    """One version of a scene, with the fields its request schema describes (pointer -> schema), worked out once."""

    method: str
    path: str
    request_schema: dict[str, Any]
    responses: dict[str, Any]
    fields: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Version:
        """From a scene's fields: method, path, request_schema, responses."""
        schema = values["request_schema"] or {}
        fields = {field.pointer: field.schema for field in walk(resolve_refs(schema))} if schema else {}
        return cls(method=values["method"], path=values["path"], request_schema=schema,
                   responses=values["responses"] or {}, fields=fields)


Changes = Mapping[str, tuple[Version, Version | None]]
"""Scene id -> its stored version and the new one (None: the new document removes it)."""


class Reason(TypedDict):
    kind: str
    message: str


class RowImpact(TypedDict):
    name: str
    kind: str
    reasons: list[Reason]


class CaseImpact(TypedDict):
    """One automation case the change breaks: why as a whole, and which rows and why."""

    case_id: int
    code: str
    name: str
    scene_id: str | None
    test_case_id: int | None
    reasons: list[Reason]
    rows: list[RowImpact]
    regenerable: bool
    """Whether a task can regenerate it: its operation is still there and it has a manual test case."""


def assess(session: Session, changes: Mapping[str, tuple[Scene, Mapping[str, Any] | None]]) -> list[CaseImpact]:
    """The cases broken by ``changes`` (scene id -> (the stored scene, its new fields or None when removed)).

    The new fields are a scene's: method, path, request_schema and responses. Cases in id order.
    """
    if not changes:
        return []
    versions: Changes = {scene_id: (Version.of(_scene_fields(old)), None if new is None else Version.of(new))
                         for scene_id, (old, new) in changes.items()}
    setups = dict(session.execute(select(AutomationCase.id, AutomationCase.setup)).all())
    touched = [case_id for case_id, steps in setups.items()
               if any(isinstance(step, dict) and step.get("scene_id") in changes for step in steps or [])]
    cases = session.scalars(select(AutomationCase).where(
        AutomationCase.scene_id.in_(list(changes)) | AutomationCase.id.in_(touched)).order_by(AutomationCase.id)).all()
    linked = set(session.scalars(select(TestCase.id).where(
        TestCase.id.in_({case.test_case_id for case in cases if case.test_case_id is not None}))))
    found = [_case_impact(case, versions, case.test_case_id in linked) for case in cases]
    return [impact for impact in found if impact["reasons"] or impact["rows"]]


def _scene_fields(scene: Scene) -> dict[str, Any]:
    return {"method": scene.method, "path": scene.path, "request_schema": scene.request_schema,
            "responses": scene.responses}


def _case_impact(case: AutomationCase, changes: Changes, has_test_case: bool) -> CaseImpact:
    reasons = _setup_reasons(case.setup or [], changes)
    rows: list[RowImpact] = []
    old, new = changes.get(case.scene_id or "", (None, None))
    removed = old is not None and new is None
    if removed:
        reasons.insert(0, Reason(kind="operation_removed", message=f"The document no longer has {case.method} "
                                                                    f"{case.path} (scene {case.scene_id})."))
    elif old is not None and new is not None:
        if (case.method, case.path) != (new.method, new.path):
            reasons.insert(0, Reason(kind="operation_moved", message=f"The operation moved: {case.method} "
                                                                     f"{case.path} → {new.method} {new.path}."))
        known = variables.setup_examples(case.setup)
        rows = [impact for row in case.rows if (impact := _row_impact(row, old, new, known))["reasons"]]
    return CaseImpact(case_id=case.id, code=case.code, name=case.name, scene_id=case.scene_id,
                      test_case_id=case.test_case_id, reasons=reasons, rows=rows,
                      regenerable=has_test_case and not removed)


def _setup_reasons(steps: list[Any], changes: Changes) -> list[Reason]:
    reasons = []
    for step in steps:
        old, new = changes.get(step.get("scene_id") or "", (None, None)) if isinstance(step, dict) else (None, None)
        if old is None:
            continue
        what = f"The setup step {str(step.get('name'))[:100]!r} sends {old.method} {old.path}"
        if new is None:
            reasons.append(Reason(kind="setup", message=f"{what}, which the document no longer has."))
        elif (old.method, old.path) != (new.method, new.path):
            reasons.append(Reason(kind="setup", message=f"{what}, which moved to {new.method} {new.path}."))
    return reasons


def _row_impact(row: Any, old: Version, new: Version, known: Mapping[str, Any]) -> RowImpact:
    if not isinstance(row, dict):
        return RowImpact(name=str(row)[:100], kind="", reasons=[])
    body = variables.example(row.get("body"), known)
    removed = removed_fields(body, old, new)
    reasons = [Reason(kind="field_removed", message=f"It sends {display(pointer)}, which the new document no "
                                                    f"longer has.") for pointer in removed]
    reasons += _schema_reasons(row, body, removed, old, new)
    reasons += _status_reasons(row, old.responses, new.responses)
    return RowImpact(name=str(row.get("name")), kind=str(row.get("kind")), reasons=reasons)


def removed_fields(body: Any, old: Version, new: Version) -> list[str]:
    """The pointers of the fields ``body`` sends that the old version describes and the new one does not
    (the outermost only: a removed object's own fields are not listed again)."""
    found: list[str] = []
    for pointer in members(body):
        place = schema_pointer(pointer)
        if place in old.fields and place not in new.fields and not any(related(pointer, done) for done in found):
            found.append(pointer)
    return found



def _schema_reasons(row: dict[str, Any], body: Any, removed: list[str], old: Version,
                    new: Version) -> list[Reason]:
    """How the new schema breaks the row's intent, when the stored one did not (removed fields aside)."""
    kind, keyword, pointer = row.get("kind"), row.get("keyword"), str(row.get("pointer") or "")
    if kind not in ROW_KINDS or (kind == "invalid" and any(related(pointer, gone) for gone in removed)):
        return []
    stripped = copy.deepcopy(body)
    for gone in removed:
        remove_at(stripped, gone)
    errors = _errors(new.request_schema, stripped) or []
    problem = intent_problem(kind, keyword, pointer, errors)
    before = None if problem is None else _errors(old.request_schema, body)  # most rows stop here, checked once
    if problem is None or before is None or intent_problem(kind, keyword, pointer, before) is not None:
        return []
    if kind == "invalid":
        required = any(error["keyword"] == "required" and error not in before for error in errors)
        return [Reason(kind="field_required" if required else "constraint", message=problem[:MESSAGE_CHARS])]
    return [_error_reason(error, old, new) for error in errors]


def _errors(schema: dict[str, Any], body: Any) -> list[BodyError] | None:
    """The body's errors against ``schema`` (none for an operation without a body); None when it cannot be used."""
    if not schema:
        return []
    try:
        return validate_body(schema, body)
    except InvalidSchemaError:
        return None


def _error_reason(error: BodyError, old: Version, new: Version) -> Reason:
    where, keyword = display(error["pointer"]), error["keyword"]
    if keyword == "required":
        return Reason(kind="field_required", message=f"The new document requires {where}, which the row does not "
                                                     f"send.")
    now, before = (_keyword_value(version, error["pointer"], keyword) for version in (new, old))
    limit = f" ({keyword} {now} in the new document, {before} before)" if now != before else ""
    return Reason(kind="constraint", message=f"{where} breaks {keyword}{limit}: {error['message']}"[:MESSAGE_CHARS])


def _keyword_value(version: Version, pointer: str, keyword: str) -> str:
    """The keyword's value at the field, as JSON ("none" when the field does not set it)."""
    node = version.fields.get(schema_pointer(pointer), {})
    return json.dumps(node[keyword], ensure_ascii=False)[:60] if keyword in node else "none"


def _status_reasons(row: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> list[Reason]:
    expected = next((check.get("expected") for check in row_checks(row)
                     if isinstance(check, dict) and check.get("kind") == "status"), None)
    if isinstance(expected, bool) or not isinstance(expected, int):
        return []
    if not documented(expected, old) or documented(expected, new):
        return []
    codes = ", ".join(sorted(str(code) for code in new)) or "none"
    return [Reason(kind="status", message=f"It expects {expected}, which the new document no longer documents "
                                          f"(it has {codes}).")]


def documented(status: int, responses: Mapping[str, Any]) -> bool:
    """Whether ``responses`` documents ``status``, itself or by its range ("2XX")."""
    keys = {str(key).upper() for key in responses}
    return str(status) in keys or f"{status // 100}XX" in keys


def regeneration_target(session: Session, case_id: int) -> dict[str, Any]:
    """What a task regenerating the case starts from: {test_case_id, scene_id, name, module_id}."""
    case = session.get(AutomationCase, case_id)
    if case is None:
        raise NotFound("No automation case with id {case_id} (UC{case_id}).", case_id=case_id)
    if case.scene_id is None or session.get(Scene, case.scene_id) is None:
        raise InvalidInput("{code}: its scene {scene!r} is gone (the operation left the document); "
                           "link its test case to another scene and start a task from there.",
                           code=case.code, scene=case.scene_id)
    if case.test_case_id is None or session.get(TestCase, case.test_case_id) is None:
        raise InvalidInput("{code} has no manual test case to generate from (it was deleted, or the case "
                           "was made without one).", code=case.code)
    return {"test_case_id": case.test_case_id, "scene_id": case.scene_id, "name": case.name,
            "module_id": case.module_id}

