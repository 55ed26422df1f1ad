"""What the model is told: system prompts, and the one test case and one scene each request carries.

Only what a step needs is sent: the case, the scene's request schema with its $refs
inlined (definitions dropped), and for assertions its documented responses. Everything
goes through the task's :class:`~core.generation.redaction.Redactor` first.
"""

from __future__ import annotations

import json
from typing import Any

from core.generation.openai_compatible.redaction import Redactor, is_secret_key
from core.records import DataRow, Lessons, RowPlan, SceneInput, TestCaseInput
from core.schema.responses import documented_codes, statuses
from core.schema.walk import parse_pointer, resolve_refs, targets, walk

MAX_SCHEMA_CHARS = 60_000
"""A request schema longer than this as JSON is sent without its descriptions and examples."""
MAX_TARGETS = 300
DROPPED_WHEN_LARGE = ("description", "examples", "example", "$comment", "title")
MAX_ROWS = 40
ROW_KEYS = ("name", "kind", "keyword", "pointer", "description", "expected_status")
ROOT = '""'
"""How the constraints list writes the pointer of the body itself."""

Message = dict[str, str]

ROLE = (
    "You are a senior API test engineer. You turn one manual QA test case and the JSON Schema of one API "
    "request into data-driven API automation rows. Values must be realistic for the business described and "
    "fit the test case's intent. Write names in snake_case and descriptions in the language of the test case. "
    "Answer with one JSON object only."
)

ROWS = """
- rows: first a plain valid row (kind "valid", keyword null, pointer ""); then the boundary and invalid rows
  that serve the case, most relevant first, at most {max_rows}. Each boundary or invalid row must be one of
  "constraints" ("<kind> <keyword> <pointer>", "" is the body itself): copy its kind, keyword and pointer.
  A valid or boundary row expects a 2xx status, an invalid row a 4xx; prefer the statuses in "statuses"."""

LESSONS = """
- reviewer_lessons, when present, is what reviewers did on earlier tasks of this API: "preferred" values they
  wrote into valid rows (use them where the schema allows), "dropped" rows they removed (do not plan them again),
  "examples" of rows they wrote or corrected and approved (follow their values and style), and "feedback" they
  gave when they rejected rows (heed it)."""

ANALYSE = ROLE + """
Task: analyse the test case and plan its data rows.
- intent: one sentence saying what the case verifies; expected_outcome: what the API must answer.
- fields: JSON pointers ("/email", "/items/0/sku") of the body fields the case is about.""" + ROWS + LESSONS

PLAN = ROLE + """
Task: plan the data rows of the test case, given its analysis and any reviewer feedback.""" + ROWS + LESSONS

BODIES = ROLE + """
Task: write the request body of every planned row, as JSON text in body_json.
- A "valid" row: a complete body every constraint of the schema accepts, with realistic values.
- A "boundary" row: accepted, with the field at "pointer" exactly at the limit its keyword sets.
- An "invalid" row: breaks exactly its keyword at its pointer ("required": leave that field out;
  "additionalProperties": add one undocumented property to the object at pointer); everything else valid.
- Heed the reviewers' feedback, oldest first, when there is any.""" + LESSONS + """
Return one entry per row, with the row's name."""

ASSERT = ROLE + """
Task: write what the API's response to each row must satisfy, following the test case's expected result.
- expected_status: a documented status; 2xx for valid and boundary rows, 4xx for invalid rows.
- checks: kind "status" (expected: the status), "json_path_exists" (path: dotted path into the JSON response,
  e.g. "data.id"), "json_path_equals" (path and the expected value; only values the request determines),
  "body_contains" (expected: text the expected result quotes). Only checks a correct server must pass.
Return one entry per row, with the row's name."""

REPAIR = """Your answer has problems:
{problems}
Answer again with the complete JSON object{scope}, following the same format. Fix exactly what is listed."""

JSON_OBJECT_FORMAT = "Reply with one JSON object, without markdown, that matches this JSON Schema:\n{schema}"


class SceneView:
    """The one test case and the one scene of a task, resolved and redacted, ready to send."""

    def __init__(self, case: TestCaseInput, scene: SceneInput) -> None:
        self.redactor = Redactor()
        resolved = resolve_refs(scene["request_schema"])
        self.targets = [(target.kind, target.keyword, target.field.pointer) for target in targets(resolved)]
        self.fields = {field.pointer for field in walk(resolved)}
        self.statuses = statuses(scene["responses"])
        self.codes = documented_codes(scene["responses"])
        self.request_schema = self.redactor.schema(_compact(resolved))
        self.case = {
            key: self.redactor.text(str(case[key]))  # type: ignore[literal-required]
            for key in ("title", "module", "preconditions", "steps", "expected_result")
        }
        self.api = {
            "name": self.redactor.text(scene["name"]),
            "method": scene["method"].upper(),
            "path": self.redactor.text(scene["path"]),
        }
        self._responses = scene["responses"]
        self.lessons = _lessons(self.redactor, scene.get("lessons"))

    def analyse(self) -> dict[str, Any]:
        return {"step": "analyse_case", **self._planning()}

    def plan(self, analysis: dict[str, Any], feedback: list[str]) -> dict[str, Any]:
        return {"step": "plan_rows", **self._planning(), "analysis": self.redactor.value(analysis),
                "reviewer_feedback": [self.redactor.text(text) for text in feedback]}

    def bodies(self, plan: list[RowPlan], feedback: list[str]) -> dict[str, Any]:
        return {
            "step": "generate_bodies",
            "test_case": self.case,
            "api": {**self.api, "request_schema": self.request_schema},
            "rows": [self.redactor.strings(dict(row)) for row in plan],  # descriptions quote const and enum values
            "reviewer_feedback": [self.redactor.text(text) for text in feedback],
            **self.lessons,
        }

    def assertions(self, rows: list[DataRow]) -> dict[str, Any]:
        responses = self.redactor.schema(_compact({code: _resolved_response(entry)
                                                  for code, entry in self._responses.items()}))
        return {
            "step": "generate_assertions",
            "test_case": self.case,
            "api": {**self.api, "responses": responses},
            "rows": [self._row(row) for row in rows],
        }

    def repair(
        self, previous: list[Message], answer: str, problems: list[str], names: list[str] | None
    ) -> list[Message]:
        """The conversation so far, the faulty answer, and what to fix (in the rows ``names``, or all of it).

        Problems quote the schema (a const's value, say), so they are scrubbed like everything else.
        """
        scope = f' for these rows only: {", ".join(names)}' if names else ""
        listed = "\n".join(f"- {problem}" for problem in problems[:40])
        text = self.redactor.text(REPAIR.format(problems=listed, scope=scope))
        return [*previous, {"role": "assistant", "content": self.redactor.text(answer[:20_000])},
                {"role": "user", "content": text}]

    def _row(self, row: DataRow) -> dict[str, Any]:
        return self.redactor.strings({key: value for key, value in row.items() if key in (*ROW_KEYS, "body")})

    def _planning(self) -> dict[str, Any]:
        return {
            "test_case": self.case,
            "api": {**self.api, "request_schema": self.request_schema},
            "constraints": [f"{kind} {keyword} {at or ROOT}" for kind, keyword, at in self.targets[:MAX_TARGETS]],
            "statuses": {"documented": self.codes, **self.statuses},
            "max_rows": MAX_ROWS,
            **self.lessons,
        }


def messages(system: str, payload: dict[str, Any]) -> list[Message]:
    return [
        {"role": "system", "content": system.format(max_rows=MAX_ROWS)},
        {"role": "user", "content": json.dumps(payload, ensure_ascii=False, separators=(",", ":"))},
    ]




def _lessons(redactor: Redactor, lessons: Lessons | None) -> dict[str, Any]:
    """``{"reviewer_lessons": ...}`` as the model reads it, scrubbed like the rest; ``{}`` when there are none."""
    if not lessons:
        return {}
    return {"reviewer_lessons": redactor.value({
        "preferred": [item for item in lessons["preferred"]  # a password a reviewer typed is no example to send
                      if not any(is_secret_key(part) for part in parse_pointer(item["pointer"]))],
        "dropped": [f"{key['kind']} {key['keyword']} {key['pointer'] or ROOT}" for key in lessons["dropped"]],
        "examples": lessons["examples"],
        "feedback": lessons["feedback"],
    })}


def _compact(schema: Any) -> Any:
    """The schema without its now-inlined definitions; without annotations when it is very large."""
    if not isinstance(schema, dict):
        return schema
    schema = {key: value for key, value in schema.items() if key not in ("$defs", "definitions", "$schema", "$id")}
    if len(json.dumps(schema, ensure_ascii=False)) > MAX_SCHEMA_CHARS:
        schema = _strip(schema)
    return schema


def _strip(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: ({name: _strip(sub) for name, sub in value.items()} if key == "properties" and isinstance(value, dict)
              else _strip(value))
        for key, value in node.items()
        if key not in DROPPED_WHEN_LARGE
    }


def _resolved_response(entry: Any) -> Any:
    """A documented response with its own schema's references inlined (each schema has its own $defs)."""
    if isinstance(entry, dict) and isinstance(entry.get("schema"), dict):
        return {**entry, "schema": resolve_refs(entry["schema"])}
    return entry
