"""The offline provider: every AI step derived deterministically from the scene's schema and the case text."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
from typing import Any

from core.generation.offline import server_errors, server_repairs
from core.generation.offline.checks import case_assertions
from core.generation.offline.lessons import is_dropped, with_preferred
from core.generation.offline.mentions import mentioned_fields, mentioned_keywords, mentions_boundaries, required_leaves
from core.generation.offline.rows import base_body, baseline_plan, build_body, target_plans, valid_plans
from core.records import Analysis, DataRow, RowAssertions, RowPlan, RowSource, SceneInput, TestCaseInput, Verdict
from core.schema import variables
from core.schema.responses import statuses
from core.schema.walk import Target, related, resolve_refs

MAX_ROWS = 40
"""Rows per scene at most (the baseline included)."""
MAX_VALID_VARIANTS = 12
"""Valid rows beside the baseline at most, so boundary and invalid rows keep their room."""
ROUND_SALTS = 8
"""Seeds tried per feedback round to get a baseline body different from the previous round's."""
ROW_SALTS = 3
"""Seeds tried per row before falling back to the baseline body."""
STEP_NUMBER = re.compile(r"^\s*(?:\d+\s*[.、)）:：]|[-*•])\s*")


class OfflineProvider:
    """Rule-based stand-in for the model: same inputs, same outputs.

    Row conventions: a "required" row's pointer is the missing field's own pointer
    (parent pointer + "/" + name); an "additionalProperties" row's pointer is the object
    that receives the undocumented property; array item fields use index 0
    ("/items/0/quantity").
    """

    name = "offline"
    model = "schema-rules"

    def analyse(self, case: TestCaseInput, scene: SceneInput) -> Analysis:
        """Intent from the title and steps; fields the case text names, else the required leaf fields."""
        schema = resolve_refs(scene["request_schema"])
        fields = mentioned_fields(schema, _case_text(case)) or required_leaves(schema)
        steps = [STEP_NUMBER.sub("", line).strip() for line in case["steps"].splitlines()]
        intent = f"{case['title'].strip()} ({scene['method'].upper()} {scene['path']})"
        if any(steps):
            intent += ": " + "; ".join(step for step in steps if step)
        return Analysis(intent=intent[:400], fields=fields, expected_outcome=case["expected_result"].strip())

    def plan_rows(
        self, case: TestCaseInput, scene: SceneInput, analysis: Analysis, feedback: list[str]
    ) -> list[RowPlan]:
        """The baseline row, then boundary and invalid rows: every keyword covered, focus fields first."""
        schema, resolved = scene["request_schema"], resolve_refs(scene["request_schema"])
        seed, base = _round(scene, resolved, feedback)
        kinds = statuses(scene["responses"])
        filled = variables.setup_filled(scene.get("setup"))
        lessons = scene.get("lessons")
        candidates = [candidate for candidate in target_plans(resolved, kinds)
                      if (candidate[0]["kind"] != "boundary" or candidate[0]["pointer"] not in filled)
                      and not is_dropped(lessons, candidate[0])]
        focus = _Focus(analysis["fields"], resolved, feedback)
        ordered = sorted(range(len(candidates)), key=lambda index: (focus.score(candidates[index][0]), index))
        feasible: dict[int, bool] = {}

        def works(index: int) -> bool:
            if index not in feasible:
                feasible[index] = _body(schema, resolved, base, candidates[index][0], seed) is not None
            return feasible[index]

        variants = _distinct(schema, resolved, base, [plan for plan in valid_plans(resolved, base, kinds["valid"])
                                                      if not is_dropped(lessons, plan)], seed)
        room = MAX_ROWS - 1 - len(variants)
        chosen: list[int] = []
        covered: set[tuple[str, ...]] = set()
        for index in ordered:
            key = _coverage_key(*candidates[index])
            if key not in covered and works(index):
                chosen.append(index)
                covered.add(key)
        for index in ordered:
            if len(chosen) >= room:
                break
            if index not in chosen and works(index):
                chosen.append(index)
        chosen.sort(key=ordered.index)
        return [baseline_plan(kinds["valid"]), *variants, *(candidates[index][0] for index in chosen)][:MAX_ROWS]

    def generate_bodies(
        self, case: TestCaseInput, scene: SceneInput, plan: list[RowPlan], feedback: list[str]
    ) -> list[DataRow]:
        """A body per planned row; a row no body can satisfy gets the baseline body (validation flags it)."""
        schema, resolved = scene["request_schema"], resolve_refs(scene["request_schema"])
        seed, base = _round(scene, resolved, feedback)
        rows: list[DataRow] = []
        for item in plan:
            body = _body(schema, resolved, base, item, seed)
            rows.append(_row(item, copy.deepcopy(base) if body is None else body, "offline"))
        return rows

    def repair_rows(
        self, scene: SceneInput, rows: list[DataRow], problems: dict[str, list[str]]
    ) -> list[DataRow]:
        """Rebuild the bodies of the rows named in ``problems`` from their kind, keyword and pointer."""
        schema, resolved = scene["request_schema"], resolve_refs(scene["request_schema"])
        seed, base = _round(scene, resolved, [])
        repaired: list[DataRow] = []
        for row in rows:
            body = _body(schema, resolved, base, row, f"{seed}|repair") if row["name"] in problems else None
            if body is None:
                repaired.append(row)
                continue
            repaired.append(_row(row, body, "offline" if row["source"] == "offline" else "offline-fallback"))
        return repaired

    def repair_from_server(
        self, case: TestCaseInput, scene: SceneInput, rows: list[DataRow], answers: dict[str, Verdict]
    ) -> list[DataRow]:
        """What the server said about the rows it refused, applied to every row it bears on.

        A rule learnt from one row (a field must be lower case, a name must be new) usually holds for
        the others: each row takes every fix that keeps it doing what it means.
        """
        schema, resolved = scene["request_schema"], resolve_refs(scene["request_schema"])
        hints = [hint for row in rows if row["kind"] != "invalid" and (answer := answers.get(row["name"]))
                 and answer["status"] is not None  # not sent: its setup failed, or the server was not reached
                 for hint in server_errors.read(answer["status"], answer["excerpt"])]
        rng = random.Random(_seed(scene["scene_id"], [hint.message for hint in hints], 0))
        known = variables.setup_examples(scene.get("setup"))
        repaired = []
        for row in rows:
            body, notes = server_repairs.repair(row, hints, schema, resolved, rng, known)
            if not notes and row["name"] in answers:
                body, notes = server_repairs.null_refused(row, answers[row["name"]], schema, known)
            if not notes and row["name"] in answers:
                body, notes = server_repairs.failing_left_out(row, answers[row["name"]], schema, known)
            repaired.append(row if not notes else DataRow(**{**row, "body": body,
                                                              "repairs": [*row.get("repairs", []), *notes]}))
        return repaired

    def generate_assertions(
        self, case: TestCaseInput, scene: SceneInput, rows: list[DataRow]
    ) -> list[RowAssertions]:
        """Status per row plus checks the expected result names (see ``offline_checks``)."""
        return case_assertions(case, scene, rows)


class _Focus:
    """What to plan first: the analysis fields, and fields, keywords and boundaries the feedback names."""

    def __init__(self, fields: list[str], schema: dict[str, Any], feedback: list[str]) -> None:
        text = "\n".join(feedback)
        self.fields = list(fields) + mentioned_fields(schema, text)
        self.keywords = mentioned_keywords(text)
        self.boundaries = mentions_boundaries(text)

    def score(self, plan: RowPlan) -> int:
        """Lower plans first: near a focus field, on a named keyword, a boundary when asked, top level."""
        pointer = plan["pointer"]
        near = bool(pointer) and any(related(pointer, field) for field in self.fields)
        score = 0 if near else 2
        score += 1 if self.keywords and plan["keyword"] not in self.keywords else 0
        score += 1 if self.boundaries and plan["kind"] != "boundary" else 0
        return score + (1 if pointer.count("/") > 1 else 0)


def _distinct(schema: dict[str, Any], resolved: dict[str, Any], base: Any, plans: list[RowPlan],
              seed: str) -> list[RowPlan]:
    """The plans that get a valid body unlike the baseline's and each other's, MAX_VALID_VARIANTS at most.

    (A minimal body may be the full one; an alternative may repeat the baseline.)
    """
    seen = [base]
    kept = []
    for plan in plans:
        body = _body(schema, resolved, base, plan, seed)
        if body is not None and body not in seen and len(kept) < MAX_VALID_VARIANTS:
            seen.append(body)
            kept.append(plan)
    return kept


def _row(plan: RowPlan, body: Any, source: RowSource) -> DataRow:
    return DataRow(
        name=plan["name"],
        kind=plan["kind"],
        keyword=plan["keyword"],
        pointer=plan["pointer"],
        description=plan["description"],
        expected_status=plan["expected_status"],
        body=body,
        source=source,
    )


def _coverage_key(plan: RowPlan, target: Target) -> tuple[str, ...]:
    """Rows every plan has at least one of: a kind and keyword (per format for "format")."""
    fmt = str(target.field.schema.get("format", "")) if target.keyword == "format" else ""
    return (plan["kind"], plan["keyword"] or "", fmt)


def _case_text(case: TestCaseInput) -> str:
    return "\n".join((case["title"], case["preconditions"], case["steps"], case["expected_result"]))


def _seed(scene_id: str, feedback: list[str], salt: int) -> str:
    return hashlib.sha256(json.dumps([scene_id, feedback, salt], ensure_ascii=False).encode()).hexdigest()


def _round(scene: SceneInput, resolved: dict[str, Any], feedback: list[str]) -> tuple[str, dict[str, Any]]:
    """The seed and baseline body of a feedback round; the baseline differs from the previous round's.

    It holds the values reviewers of earlier tasks wrote instead of the generated ones, where the schema
    accepts them (core.generation.offline.lessons)."""
    previous = _round(scene, resolved, feedback[:-1])[1] if feedback else None
    for salt in range(ROUND_SALTS):
        seed = _seed(scene["scene_id"], feedback, salt)
        base = with_preferred(resolved, base_body(resolved, random.Random(seed)), scene.get("lessons"))
        if base != previous:
            break
    return seed, base


def _body(
    schema: dict[str, Any], resolved: dict[str, Any], base: dict[str, Any], plan: RowPlan, seed: str
) -> dict[str, Any] | None:
    """A body for ``plan``, trying a few row seeds before giving up."""
    for salt in range(ROW_SALTS):
        body = build_body(schema, resolved, base, plan, f"{seed}#{salt}")
        if body is not None:
            return body
    return None
