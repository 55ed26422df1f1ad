"""Learning from reviews: what a reviewer changed in a round, and what a scene's reviews teach its next tasks.

At each decision :func:`edits` compares the rows the reviewer approved with the rows generated; the
review keeps them (``reviews.edits``, ``reviews.edited``). When a task of the scene starts,
:func:`for_scene` reads the scene's newest reviews into :class:`~core.records.Lessons`: the values
reviewers wrote in valid rows, the rows they removed, the rows they wrote or corrected, the feedback
they gave. The offline provider puts the preferred values in its baseline body and leaves out the
removed rows (core.generation.offline.lessons); the model is shown all of it as examples.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NotRequired, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.records import Lessons, Preference, RowKey
from core.schema import variables
from core.schema.walk import escape
from db.models import Review

MAX_REVIEWS = 20
"""The newest reviews of a scene that teach its next task."""
MAX_EXAMPLES = 5
MAX_FEEDBACK = 3
MAX_CHANGES = 200
"""Field changes kept per review (a reviewer rewriting a huge body is one lesson, not thousands)."""
MAX_EXAMPLE_CHARS = 4_000
"""A row longer than this as JSON is no example: it would crowd out the prompt."""
EXAMPLE_KEYS = ("name", "kind", "keyword", "pointer", "expected_status", "body")


class FieldEdit(TypedDict):
    """One field a reviewer changed in one row: "before" absent when added, "after" absent when removed."""

    row: str
    kind: str
    pointer: str
    before: NotRequired[Any]
    after: NotRequired[Any]


class Edits(TypedDict):
    """What a reviewer changed in one round (stored as ``reviews.edits``)."""

    changed: list[FieldEdit]
    removed: list[RowKey]
    added: list[str]
    """Names of the rows the reviewer wrote."""
    asserted: list[str]
    """Names of the rows whose expected status or checks the reviewer changed."""
    setup: bool
    """Whether the reviewer changed the setup steps."""


def edits(generated: list[dict[str, Any]], rows: list[dict[str, Any]] | None,
          generated_setup: list[Any], setup: list[Any] | None) -> Edits:
    """The reviewer's changes: ``rows`` and ``setup`` as decided (None: kept as generated)."""
    final = generated if rows is None else rows
    by_name = {row["name"]: row for row in generated}
    kept = {row["name"] for row in final}
    changed: list[FieldEdit] = []
    added, asserted = [], []
    for row in final:
        before = by_name.get(row["name"])
        if before is None:
            added.append(row["name"])
            continue
        changed += [FieldEdit(row=row["name"], kind=row["kind"], pointer=pointer, **values)  # type: ignore[typeddict-item]
                    for pointer, values in _changes(before["body"], row["body"], "")]
        if (row.get("expected_status"), row.get("checks")) != (before.get("expected_status"), before.get("checks")):
            asserted.append(row["name"])
    removed = [RowKey(kind=row["kind"], keyword=row.get("keyword"), pointer=row.get("pointer", ""))
               for row in generated if row["name"] not in kept]
    return Edits(changed=changed[:MAX_CHANGES], removed=removed, added=added, asserted=asserted,
                 setup=setup is not None and setup != generated_setup)


def is_edited(change: Edits) -> bool:
    return bool(change["changed"] or change["removed"] or change["added"] or change["asserted"] or change["setup"])


def _changes(before: Any, after: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, {"before", "after"}) for every leaf that differs; a value of another shape is one change."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(key for key in after if key not in before)]:
            at = f"{pointer}/{escape(key)}"
            if key not in after:
                yield at, {"before": before[key]}
            elif key not in before:
                yield at, {"after": after[key]}
            else:
                yield from _changes(before[key], after[key], at)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (a, b) in enumerate(zip(before, after, strict=True)):
            yield from _changes(a, b, f"{pointer}/{index}")
    elif before != after or type(before) is not type(after):
        yield pointer, {"before": before, "after": after}


def for_scene(session: Session, scene_id: str) -> Lessons | None:
    """What the scene's newest reviews teach (None: nothing yet)."""
    reviews = session.execute(
        select(Review.review_status, Review.edits, Review.corrected_body, Review.feedback)
        .where(Review.scene_id == scene_id).order_by(Review.id.desc()).limit(MAX_REVIEWS)
    ).all()
    preferred: dict[str, Preference] = {}
    dropped: list[RowKey] = []
    examples: dict[tuple[Any, ...], dict[str, Any]] = {}
    feedback: list[str] = []
    for status, change, rows, text in reviews:
        if status == "rejected":
            if text and text not in feedback and len(feedback) < MAX_FEEDBACK:
                feedback.append(text)
            continue
        if not change:
            continue
        for item in change["changed"]:  # a templated value ({{run_id}}, a capture) is made per run: no preference
            if item["kind"] == "valid" and "after" in item and not variables.has_template(item["after"]):
                preferred.setdefault(item["pointer"], Preference(pointer=item["pointer"], value=item["after"]))
        dropped += [key for key in change["removed"] if _droppable(key) and key not in dropped]
        taught = {item["row"] for item in change["changed"]} | set(change["added"]) | set(change["asserted"])
        for row in rows or []:
            example = {key: row.get(key) for key in EXAMPLE_KEYS}
            key = (row["kind"], row.get("keyword"), row.get("pointer"))
            if (row["name"] in taught and key not in examples and len(examples) < MAX_EXAMPLES
                    and len(json.dumps(example, ensure_ascii=False, default=str)) <= MAX_EXAMPLE_CHARS):
                examples[key] = example
    if not (preferred or dropped or examples or feedback):
        return None
    return Lessons(rounds=len(reviews), preferred=list(preferred.values()), dropped=dropped,
                   examples=list(examples.values()), feedback=feedback)


def _droppable(key: RowKey) -> bool:
    """Every row but the plain valid one (kind valid, no keyword), which every case needs."""
    return key["kind"] != "valid" or key["keyword"] is not None
