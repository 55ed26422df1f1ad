"""A reviewer's corrected body: every shape that could break a case later is refused with a reason; the rest is used.

These call core.tasks.reviews.corrected_rows, the rule service.submit_review and the
review page apply, on a task's generated rows; no database is needed.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.tasks import reviews
from tests.support.properties import EXAMPLES

GENERATED: list[dict[str, Any]] = [
    {"name": "baseline_valid", "kind": "valid", "keyword": None, "pointer": "", "description": "valid",
     "expected_status": 201, "body": {"qty": 1}, "source": "offline",
     "checks": [{"kind": "status", "path": None, "expected": 201}]},
    {"name": "qty_minimum_invalid_" + "x" * 300, "kind": "invalid", "keyword": "minimum", "pointer": "/qty",
     "description": "below the minimum", "expected_status": 422, "body": {"qty": 0}, "source": "offline",
     "checks": [{"kind": "status", "path": None, "expected": 422}]},
]


def row(**fields: Any) -> dict[str, Any]:
    """A row object the reviewer adds: a valid one, with ``fields`` changed."""
    return {"name": "added", "body": {"qty": 2}, **fields}


def deep(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels):
        value = {"a": value}
    return value


BAD: list[tuple[Any, str]] = [
    ([row(body={"qty": math.nan})], r"corrected_body\[0\]\.body\.qty is nan, which JSON cannot hold"),
    ([row(body={"qty": math.inf})], "is inf, which JSON cannot hold"),
    ([{"qty": -math.inf}, {"qty": 1}], "is -inf, which JSON cannot hold"),
    ([row(body={"qty": 2**64})], "is an integer beyond 64 bits"),
    ([row(body=deep(100_000))], "nested more than 64 levels deep"),
    ([row(body={"s": "\ud800"})], "not valid Unicode text"),
    ([row(body={1: "x"})], "has a key that is not valid text"),
    ([row(body={"t": (1, 2)})], "is tuple, not a JSON value"),
    ([row(name=f"r{index}") for index in range(501)], "has 501 rows; at most 500"),
    ([row(body={"blob": "x" * 2_000_000})], "bytes of JSON; at most 2,000,000 are allowed"),
    ([row(name={"x": 1})], "name of corrected_body row 1 must be text, not an object"),
    ([row(name=5)], "must be text, not a number"),
    ([row(name="  ")], "row 1 needs a unique, non-empty name"),
    ([row(name="a"), row(name=" a ")], "row 2 needs a unique, non-empty name"),
    ([row(name="n" * 201)], "has 201 characters; at most 200"),
    ([row(name="a\x00b")], "contains a NUL character"),
    ([row(checks="notalist")], "Row 'added': checks must be a list of check objects, not a string"),
    ([row(checks=[1])], "check 1 is a number, not a check object"),
    ([row(checks=[{"kind": "status", "expected": 201, "why": "x"}])], "check 1 has an unknown key 'why'"),
    ([row(checks=[{"kind": "regex", "path": "a"}])], "check 1 has the kind 'regex'"),
    ([row(checks=[{"kind": "json_path_exists", "path": " "}])], "is a json_path_exists check without a path"),
    ([row(checks=[{"kind": "json_path_equals", "path": 5, "expected": 1}])], "has a path that is a number"),
    ([row(checks=[{"kind": "status", "expected": "201"}])], "is a status check whose expected value is not"),
    ([row(checks=[{"kind": "body_contains", "expected": 5}])], "is a body_contains check without the expected text"),
    ([row(checks=[{"kind": "status", "expected": 201}] * 101)], "has 101 checks; at most 100"),
    ([row(expected_status=True)], "expected_status must be an HTTP status code"),
    ([row(expected_status=600)], "expected_status must be an HTTP status code"),
    ([row(expected_status=201.0)], "expected_status must be an HTTP status code"),
    ([row(kind="weird")], "kind must be valid, boundary or invalid"),
    ([row(description=None)], "description must be text, not null"),
    ([row(keyword=3)], "keyword must be text or null, not a number"),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[message for _, message in BAD])
def test_a_body_that_would_break_a_case_is_refused_with_its_reason(body: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        reviews.corrected_rows(body, GENERATED)


def test_generated_rows_come_back_as_generated_and_added_rows_are_the_reviewers() -> None:
    echoed = [{key: value for key, value in generated.items()} for generated in GENERATED]
    assert reviews.corrected_rows(echoed, GENERATED) == GENERATED, "a generated name may be longer than 200"
    added = row(name=" added ", kind="invalid", expected_status=400, keyword=None, description="mine",
                checks=[{"kind": "json_path_equals", "path": "error.code", "expected": None},
                        {"kind": "body_contains", "path": None, "expected": "\x00 is fine in data"}],
                body={"qty": "\x00", "nested": deep(60)})
    rows = reviews.corrected_rows([echoed[0], added], GENERATED)
    assert rows[0] == GENERATED[0]
    assert rows[1]["name"] == "added" and rows[1]["source"] == "reviewer" and rows[1]["checks"] == added["checks"]


ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=())),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)
ROW_OBJECT = st.fixed_dictionaries(
    {"name": st.sampled_from(["baseline_valid", "added", ""]) | ANYTHING, "body": st.dictionaries(st.text(), ANYTHING)},
    optional={"kind": st.sampled_from(reviews.ROW_KINDS) | ANYTHING, "expected_status": st.integers(0, 700) | ANYTHING,
              "checks": st.lists(st.fixed_dictionaries({"kind": st.sampled_from(reviews.CHECK_KINDS)},
                                                       optional={"path": ANYTHING, "expected": ANYTHING}) | ANYTHING,
                                 max_size=3) | ANYTHING,
              "description": ANYTHING, "keyword": ANYTHING, "pointer": ANYTHING},
)


@EXAMPLES
@given(st.lists(ROW_OBJECT, max_size=4) | st.lists(st.dictionaries(st.text(), ANYTHING), min_size=2, max_size=2)
       | ANYTHING)
def test_whatever_is_sent_either_is_refused_or_gives_rows_every_part_of_caseflow_can_use(body: Any) -> None:
    try:
        rows = reviews.corrected_rows(body, GENERATED)
    except InvalidInput:
        return
    json.dumps(rows, allow_nan=False)
    names = [item["name"] for item in rows]
    assert all(isinstance(name, str) and name.strip() for name in names) and len(set(names)) == len(names)
    for item in rows:
        assert isinstance(item["body"], dict) and item["kind"] in reviews.ROW_KINDS
        assert isinstance(item["expected_status"], int) and 100 <= item["expected_status"] <= 599
        assert isinstance(item["checks"], list)
        assert all(check["kind"] in reviews.CHECK_KINDS for check in item["checks"])
