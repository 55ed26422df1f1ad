"""The demo scenes and test cases as workflow records, without a database (unit tests)."""

from __future__ import annotations

from functools import cache
from typing import Any

from core.library import demo_data
from core.records import SceneInput, TestCaseInput


@cache
def demo_scenes() -> tuple[SceneInput, ...]:
    return tuple(demo_data.scenes())


@cache
def demo_test_cases() -> tuple[dict[str, Any], ...]:
    return tuple(demo_data.test_cases())


def demo_scene(scene_id: str) -> SceneInput:
    return next(scene for scene in demo_scenes() if scene["scene_id"] == scene_id)


def case_input(index: int) -> TestCaseInput:
    """The demo's test case number ``index`` (0-based), with the id it gets in a fresh database."""
    case = demo_test_cases()[index]
    return TestCaseInput(id=index + 1, title=case["title"], module=case["module"], preconditions=case["preconditions"],
                     steps=case["steps"], expected_result=case["expected_result"])


def first_case_of(scene_id: str) -> TestCaseInput:
    return case_input(next(i for i, case in enumerate(demo_test_cases()) if case["scene_id"] == scene_id))


def case_titled(fragment: str) -> TestCaseInput:
    """The first demo test case whose title contains ``fragment``."""
    return case_input(next(i for i, case in enumerate(demo_test_cases()) if fragment in case["title"]))
