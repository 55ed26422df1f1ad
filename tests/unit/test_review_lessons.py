"""What a review's edits record, and how the offline provider applies a scene's lessons."""

from __future__ import annotations

from typing import Any

from core.generation.offline.lessons import is_dropped, with_preferred
from core.library.review_lessons import edits, is_edited
from core.records import Lessons

SCHEMA = {"type": "object", "required": ["name", "items"], "properties": {
    "name": {"type": "string", "maxLength": 10},
    "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
    "note": {"type": "string"}}}


def _row(name: str, body: Any, kind: str = "valid", keyword: str | None = None, pointer: str = "") -> dict[str, Any]:
    return {"name": name, "kind": kind, "keyword": keyword, "pointer": pointer, "body": body, "expected_status": 201,
            "checks": [{"kind": "status", "expected": 201}]}


GENERATED = [_row("baseline", {"name": "ann", "items": [{"sku": "A-1"}], "note": "x"}),
             _row("too_long", {"name": "a" * 11, "items": []}, "invalid", "maxLength", "/name")]


def test_kept_rows_are_no_edit() -> None:
    assert not is_edited(edits(GENERATED, None, [], None))
    assert not is_edited(edits(GENERATED, [dict(row) for row in GENERATED], [{"name": "s"}], [{"name": "s"}]))


def test_each_changed_leaf_is_named_by_its_pointer_with_its_old_and_new_value() -> None:
    rows = [_row("baseline", {"name": "bob", "items": [{"sku": "B/2"}], "tag": 1}), GENERATED[1]]
    change = edits(GENERATED, rows, [], None)
    assert change["changed"] == [
        {"row": "baseline", "kind": "valid", "pointer": "/name", "before": "ann", "after": "bob"},
        {"row": "baseline", "kind": "valid", "pointer": "/items/0/sku", "before": "A-1", "after": "B/2"},
        {"row": "baseline", "kind": "valid", "pointer": "/note", "before": "x"},
        {"row": "baseline", "kind": "valid", "pointer": "/tag", "after": 1},
    ]
    assert change["removed"] == change["added"] == change["asserted"] == [] and is_edited(change)


def test_a_list_of_another_length_or_a_value_of_another_type_is_one_change() -> None:
    rows = [_row("baseline", {"name": "ann", "items": [{"sku": "A-1"}, {"sku": "A-2"}], "note": 1}), GENERATED[1]]
    assert [(item["pointer"], item["after"]) for item in edits(GENERATED, rows, [], None)["changed"]] == [
        ("/items", [{"sku": "A-1"}, {"sku": "A-2"}]), ("/note", 1)]
    true_for_one = [_row("baseline", {**GENERATED[0]["body"], "note": True}), GENERATED[1]]
    one = edits([_row("baseline", {**GENERATED[0]["body"], "note": 1}), GENERATED[1]], true_for_one, [], None)
    assert [item["pointer"] for item in one["changed"]] == ["/note"]  # True == 1 in Python, not in JSON


def test_removed_added_rows_checks_and_setup_are_edits() -> None:
    status = {**GENERATED[0], "expected_status": 200}
    change = edits(GENERATED, [status, _row("mine", {"name": "z", "items": []})], [{"name": "s"}], [])
    assert change["removed"] == [{"kind": "invalid", "keyword": "maxLength", "pointer": "/name"}]
    assert change["added"] == ["mine"] and change["asserted"] == ["baseline"] and change["setup"]


LESSONS = Lessons(rounds=2, preferred=[{"pointer": "/name", "value": "lead"}, {"pointer": "/items/0/sku", "value": "Z"},
                                       {"pointer": "/note", "value": "n" * 3}, {"pointer": "/gone/deep", "value": 1},
                                       {"pointer": "/name", "value": "far too long a name"}],
                  dropped=[{"kind": "invalid", "keyword": "maxLength", "pointer": "/name"}], examples=[], feedback=[])


def test_preferred_values_go_where_the_schema_accepts_them_and_nowhere_else() -> None:
    body = {"name": "ann", "items": [{"sku": "A-1"}]}
    assert with_preferred(SCHEMA, body, LESSONS) == {"name": "lead", "items": [{"sku": "Z"}], "note": "nnn"}
    assert body == {"name": "ann", "items": [{"sku": "A-1"}]}  # not changed in place
    assert with_preferred(SCHEMA, {"name": "ann", "items": []}, LESSONS)["items"] == []  # no item to put "Z" in
    assert with_preferred(SCHEMA, body, None) == body


def test_dropped_rows_match_kind_keyword_and_pointer() -> None:
    plan = {"name": "n", "kind": "invalid", "keyword": "maxLength", "pointer": "/name", "description": "",
            "expected_status": 400}
    assert is_dropped(LESSONS, plan)  # type: ignore[arg-type]
    assert not is_dropped(LESSONS, {**plan, "pointer": "/note"})  # type: ignore[arg-type]
    assert not is_dropped(None, plan)  # type: ignore[arg-type]
