"""Exported pytest files carry data as data: any text compiles, leaves the code unchanged, and comes back equal.

The response checks they embed judge any stored row and any response without raising.
"""

from __future__ import annotations

import ast
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.library.exporters import json_text, pytest_file, string_literal
from core.library.response_checks import MISSING, failures, row_checks, value_at
from tests.support.exports import code_shape, embedded_case
from tests.support.properties import EXAMPLES

CASE_ID = 7
HOSTILE = [
    '"""', "'''", '\\', '"', "'", "\r\n", "\x00", "\u2028", "\ufeff", "\u202e", "{0} {code}", "%s %(x)s",
    "$(touch x)", "; rm -rf x", "'; DROP TABLE t; --", "from __future__ import x\n", "__import__('os').system('x')",
]
"""Fragments that end or escape a literal, or are code, somewhere."""
TEXT = st.text(st.characters(codec="utf-8"), max_size=30) | st.lists(st.sampled_from(HOSTILE), max_size=6).map("".join)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=25)
REFERENCE_SHAPE = code_shape(pytest_file(CASE_ID, {}))


@EXAMPLES
@given(st.dictionaries(TEXT, JSON, max_size=6))
def test_any_document_compiles_into_the_same_code_and_comes_back_equal(document: dict[str, Any]) -> None:
    source = pytest_file(CASE_ID, document)
    compile(source, "test_uc7.py", "exec")
    assert code_shape(source) == REFERENCE_SHAPE
    assert embedded_case(source) == document


@EXAMPLES
@given(st.text(st.characters(exclude_categories=())))
def test_any_text_even_with_lone_surrogates_is_one_literal_of_itself(text: str) -> None:
    assert ast.literal_eval("(\n" + string_literal(text) + "\n)") == text


def test_the_docstring_names_only_the_case_code() -> None:
    source = pytest_file(CASE_ID, {"case": {"name": '"""x"""', "rows": []}})
    docstring = ast.get_docstring(ast.parse(source)) or ""
    assert docstring.startswith("CaseFlow automation case UC7:") and '"""x' not in docstring


@pytest.mark.parametrize("value", [math.nan, -math.inf, 10**5000], ids=["nan", "-inf", "5001 digits"])
def test_a_number_json_cannot_hold_is_refused_rather_than_written(value: Any) -> None:
    document = {"case": {"code": "UC4", "rows": [{"body": {"x": value}}]}}
    for export in (lambda: json_text(document, indent=2), lambda: pytest_file(4, document)):
        with pytest.raises(InvalidInput, match=r"UC4 cannot be exported: .* \(NaN, Infinity"):
            export()


CHECK = st.fixed_dictionaries({}, optional={
    "kind": st.sampled_from(["status", "json_path_exists", "json_path_equals", "body_contains"]) | JSON,
    "path": TEXT | JSON, "expected": JSON,
})
ROW = st.fixed_dictionaries({}, optional={
    "name": JSON, "kind": JSON, "expected_status": st.integers(100, 599) | JSON,
    "checks": st.lists(CHECK | JSON, max_size=4) | JSON, "body": JSON,
})


@EXAMPLES
@given(ROW, st.integers(100, 599), TEXT | JSON.map(json.dumps))
def test_checks_judge_any_stored_row_and_any_response_without_raising(row: dict[str, Any], status: int,
                                                                      text: str) -> None:
    found = failures(row_checks(row), status, text)
    assert isinstance(found, list) and all(isinstance(message, str) for message in found)


def test_rows_stored_before_reviewers_rows_were_checked_fail_with_a_reason() -> None:
    row = {"name": {"x": 1}, "expected_status": 201, "checks": "notalist"}
    assert failures(row_checks(row), 201, "{}") == ["not a check: 'notalist'"]
    odd = {"expected_status": 201, "checks": [1, {"kind": "json_path_exists", "path": 5}, {"kind": "nope"}]}
    assert failures(row_checks(odd), 201, "{}") == [
        "not a check: 1",
        "json_path_exists: the path 5 is not text",
        "nope: unknown check",
    ]
    assert failures(row_checks({}), 200, "") == ["status: expected None, got 200"]


def test_a_response_nested_deeper_than_python_parses_has_no_value() -> None:
    assert value_at("[" * 100_000 + "]" * 100_000, "0") is MISSING
    assert value_at('{"a": [1, 2]}', "a.²") is MISSING and value_at('{"a": [1, 2]}', "a." + "9" * 5000) is MISSING
    assert value_at('{"a": [1, 2]}', "a.01") == 2
