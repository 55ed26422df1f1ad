"""The demo data: an OpenAPI document of four scenes and ten manual test cases, loaded through the importers.

The files beside this module (``demo/``) are ordinary inputs a user could import on the
Import page; loading them here takes the same path, so demo scenes are scenes like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.database import session_scope
from core.library.importers import manual_cases, openapi
from core.library.importers.documents import check, parse
from core.records import SceneInput
from db.models import Scene, TestCase

DEMO = Path(__file__).with_name("demo")
DOCUMENT = DEMO / "caseflow-demo.openapi.yaml"
TEST_CASES = DEMO / "test-cases.csv"


def load() -> dict[str, int]:
    """Imports the demo document and the demo test cases not there yet; returns what was added."""
    report = openapi.import_document(DOCUMENT.read_bytes(), DOCUMENT.name)
    created = manual_cases.import_cases(TEST_CASES.read_bytes(), TEST_CASES.name, skip_existing=True)
    return {"scenes": len(report["added"]), "test_cases": created["created"]}


def load_if_empty() -> dict[str, int] | None:
    """Loads the demo data into a database that has no scenes and no test cases yet."""
    return load() if is_empty() else None


def is_empty() -> bool:
    """No scene and no test case yet."""
    with session_scope(read_only=True) as session:
        return (session.scalar(select(Scene.id).limit(1)) is None
                and session.scalar(select(TestCase.id).limit(1)) is None)


def scenes() -> list[SceneInput]:
    """The demo scenes as the workflow sees them, read from the document without a database."""
    document = check(parse(DOCUMENT.read_bytes(), DOCUMENT.name))
    return [SceneInput(scene_id=spec.id, name=spec.name, method=spec.method, path=spec.path,
                       request_schema=spec.request_schema, responses=spec.responses)
            for spec in openapi.scenes_of(document)]


def test_cases() -> list[dict[str, Any]]:
    """The demo test cases' fields (title, module, priority, scene_id, preconditions, steps, expected_result)."""
    header, records = manual_cases.read_table(TEST_CASES.read_bytes(), TEST_CASES.name)
    return [dict(zip(header, record, strict=True)) for _, record in records]
