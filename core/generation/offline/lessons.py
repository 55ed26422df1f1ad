"""What the offline provider does with what reviewers taught (core.records.Lessons): rules, not a model."""

from __future__ import annotations

import copy
from typing import Any

from core.records import Lessons, RowKey, RowPlan
from core.schema.validation import accepts
from core.schema.walk import set_at


def with_preferred(schema: dict[str, Any], body: Any, lessons: Lessons | None) -> Any:
    """``body`` with each preferred value the schema still accepts (a scene re-imported may have changed)."""
    for item in (lessons or {}).get("preferred", []):
        candidate = copy.deepcopy(body)
        try:
            set_at(candidate, item["pointer"], copy.deepcopy(item["value"]))
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # the field's parent is not in this body
        if accepts(schema, candidate):
            body = candidate
    return body


def is_dropped(lessons: Lessons | None, plan: RowPlan) -> bool:
    """Whether reviewers removed rows like this one before approving."""
    key = RowKey(kind=plan["kind"], keyword=plan["keyword"], pointer=plan["pointer"])
    return key in (lessons or {}).get("dropped", [])
