"""A module's coverage map: its operations × documented status codes × constraint keywords.

Each cell counts the approved automation cases' rows that expect the status (or aim at the
keyword: a boundary or invalid row) and what each case's last run made of them, so a lead
sees what is untested (no row), what fails and what was never run. The columns come from
the scenes themselves: the status codes their responses document and the keywords their
request schemas constrain (``maxLength``, ``enum``, ``required``...), so a cell exists only
where something can be tested. Gaps are launched as tasks from the map (see
:func:`gap_cases`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.schema.responses import documented_codes
from core.schema.walk import InvalidSchemaError, resolve_refs, targets
from db.models import AutomationCase, CaseRun, Scene, TestCase


class Cell(TypedDict):
    rows: int
    """Approved rows that expect this status, or aim at this keyword."""
    passed: int
    """Of them, passed in their case's last run."""
    failed: int
    """Failed in their case's last run; the rest were never run."""


class OperationCoverage(TypedDict):
    scene_id: str
    method: str
    path: str
    name: str
    cases: int
    """Approved automation cases for the operation."""
    statuses: dict[str, Cell]
    """Documented status code -> its cell."""
    keywords: dict[str, Cell]
    """Constraint keyword of the request schema -> its cell."""
    gaps: list[str]
    """The cells without a row: "status 404", "keyword maxLength"."""


class CoverageMap(TypedDict):
    module: str
    operations: list[OperationCoverage]
    statuses: list[str]
    """Every status code some operation documents, ascending: the map's status columns."""
    keywords: list[str]
    cells: int
    covered: int
    """Cells with at least one approved row."""
    failing: int
    """Cells with a row that failed in its last run."""


def module_coverage(session: Session, module: str) -> CoverageMap:
    """The coverage map of ``module``'s scenes (by id)."""
    scenes = list(session.scalars(select(Scene).where(Scene.module == module).order_by(Scene.id)))
    cases = defaultdict(list)
    for case in session.scalars(select(AutomationCase).where(AutomationCase.scene_id.in_([s.id for s in scenes]))):
        cases[case.scene_id].append(case)
    results = _last_results(session, [case.id for found in cases.values() for case in found])
    operations = [_operation(scene, cases[scene.id], results) for scene in scenes]
    cells = [cell for item in operations for cell in (*item["statuses"].values(), *item["keywords"].values())]
    return CoverageMap(
        module=module, operations=operations,
        statuses=sorted({code for item in operations for code in item["statuses"]}, key=int),
        keywords=sorted({keyword for item in operations for keyword in item["keywords"]}),
        cells=len(cells), covered=sum(cell["rows"] > 0 for cell in cells),
        failing=sum(cell["failed"] > 0 for cell in cells))


def _last_results(session: Session, case_ids: list[int]) -> dict[int, dict[str, bool]]:
    """Case id -> row name -> whether the row passed in the case's newest run."""
    if not case_ids:
        return {}
    newest = (select(CaseRun.case_id, func.max(CaseRun.id).label("run_id"))
              .where(CaseRun.case_id.in_(case_ids)).group_by(CaseRun.case_id).subquery())
    runs = session.execute(select(CaseRun.case_id, CaseRun.rows).join(newest, CaseRun.id == newest.c.run_id))
    return {case_id: {str(row.get("name")): bool(row.get("passed")) for row in rows or [] if isinstance(row, dict)}
            for case_id, rows in runs}


def _operation(scene: Scene, cases: list[AutomationCase], results: dict[int, dict[str, bool]]) -> OperationCoverage:
    statuses = {str(code): _empty() for code in documented_codes(scene.responses or {})}
    keywords = {keyword: _empty() for keyword in _keywords(scene)}
    for case in cases:
        last = results.get(case.id, {})
        for row in case.rows or []:
            if not isinstance(row, dict):
                continue
            outcome = last.get(str(row.get("name")))
            status = str(row.get("expected_status"))
            if status in statuses:
                _count(statuses[status], outcome)
            if row.get("kind") in ("boundary", "invalid") and row.get("keyword") in keywords:
                _count(keywords[row["keyword"]], outcome)
    gaps = [f"status {code}" for code, cell in statuses.items() if not cell["rows"]]
    gaps += [f"keyword {keyword}" for keyword, cell in keywords.items() if not cell["rows"]]
    return OperationCoverage(scene_id=scene.id, method=scene.method, path=scene.path, name=scene.name,
                             cases=len(cases), statuses=statuses, keywords=keywords, gaps=gaps)


def _keywords(scene: Scene) -> list[str]:
    """The constraint keywords a boundary or invalid row can aim at in the scene's request schema."""
    try:
        return sorted({target.keyword for target in targets(resolve_refs(scene.request_schema or {}))})
    except InvalidSchemaError:
        return []


def _empty() -> Cell:
    return Cell(rows=0, passed=0, failed=0)


def _count(cell: Cell, outcome: bool | None) -> None:
    cell["rows"] += 1
    if outcome is not None:
        cell["passed" if outcome else "failed"] += 1


def gap_cases(session: Session, coverage: CoverageMap) -> list[tuple[int, str]]:
    """(test case id, scene id) for each operation with a gap that a linked test case can launch: the newest
    test case of the scene (a scene without one is left for a person to write its case)."""
    gapped = [item["scene_id"] for item in coverage["operations"] if item["gaps"]]
    if not gapped:
        return []
    newest = dict(session.execute(select(TestCase.scene_id, func.max(TestCase.id))
                                  .where(TestCase.scene_id.in_(gapped)).group_by(TestCase.scene_id)).all())
    return [(newest[scene_id], scene_id) for scene_id in gapped if scene_id in newest]
