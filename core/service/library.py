"""The library at the door: test cases, scenes and automation cases, imported, read, edited, exported and run.

Reads are open to every signed-in role; writes and runs need an operator (admins,
engineers), checked here before anything below is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import inputs, paging
from core.accounts.users import current_actor, require_operator
from core.database import session_scope
from core.errors import NotFound
from core.library import assertion_strength as strength
from core.library import catalog, coverage, demo_data, exporters, response_checks, runs, traceability
from core.library.exporters import Export
from core.library.importers import manual_cases, openapi
from core.library.importers.manual_cases import Preview
from core.service.tasks import start_workflow

TEST_CASE_PRIORITIES = catalog.TEST_CASE_PRIORITIES
DEFAULT_TEST_CASE_PRIORITY = catalog.DEFAULT_PRIORITY
DEFAULT_RUN_TIMEOUT_SECONDS = runs.DEFAULT_TIMEOUT_SECONDS
RUN_TOKEN_VARIABLE = runs.TOKEN_VARIABLE
"""The environment variable whose value run-case sends as a Bearer token."""

list_modules = catalog.modules
list_scenes = catalog.list_scenes
get_scene = catalog.get_scene
list_test_cases = catalog.list_test_cases
get_test_case = catalog.get_test_case
list_automation_cases = catalog.list_automation_cases
get_automation_case = catalog.get_automation_case
preview_test_cases = manual_cases.preview
export_module = exporters.export_module
row_checks = response_checks.row_checks


def list_scenes_page(module: str | None = None, *, search: str | None = None, limit: int = 50,
                     offset: int = 0) -> dict[str, Any]:
    """A page of :func:`list_scenes` (by module, then id): {total, items, limit, offset}."""
    paging.check(limit, offset)
    scenes = catalog.list_scenes(module, search=search)
    return {"total": len(scenes), "items": scenes[offset:offset + limit], "limit": limit, "offset": offset}


def export_case(case_id: int, fmt: str) -> Export:
    """An automation case as a pytest file or JSON ("pytest" or "json")."""
    return exporters.export_case(inputs.record_id(case_id, "automation case"), fmt)


def create_test_case(values: Mapping[str, Any], *, user: str) -> dict[str, Any]:
    """A new manual test case; bad fields raise InvalidInput listing every problem."""
    require_operator(current_actor(user), "create test cases")
    return catalog.create_test_case(values)


def update_test_case(test_case_id: int, values: Mapping[str, Any], *, user: str) -> dict[str, Any]:
    """Replaces the fields of a test case; tasks already started keep the text they were started with."""
    require_operator(current_actor(user), "edit test cases")
    return catalog.update_test_case(test_case_id, values)


def import_openapi(data: bytes, filename: str, *, user: str, module: str | None = None,
                   dry_run: bool = False) -> dict[str, Any]:
    """One scene per operation of an OpenAPI document, in one transaction (or, dry, what would change).

    The report's ``impact`` names the automation cases and rows the new version breaks, assessed before
    anything is replaced (see core.library.spec_impact); ``regenerate_cases`` starts a task for each.
    """
    require_operator(current_actor(user), "import OpenAPI documents")
    return openapi.import_document(data, filename, module=module, dry_run=dry_run)


def import_test_cases(data: bytes, filename: str, *, user: str) -> dict[str, Any]:
    """Every test case of a CSV or XLSX file, or none when any row has an error."""
    require_operator(current_actor(user), "import test cases")
    return manual_cases.import_cases(data, filename)


def run_case(case_id: int, base_url: str | None = None, *, user: str, environment: str | None = None,
             token: str | None = None, timeout: float = DEFAULT_RUN_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Sends every row of an automation case and stores the run; secrets (``token``, an environment's) never are.

    The target: ``base_url`` (with ``token`` as a Bearer token), else the ``environment`` named,
    else the default environment of the case's module.
    """
    case_id = inputs.record_id(case_id, "automation case")
    if base_url is not None:
        inputs.text(base_url, "The base URL", single_line=True)
    actor = require_operator(current_actor(user), "run automation cases")
    return runs.run_case(case_id, base_url, actor=actor, environment=environment, token=token, timeout=timeout)


def assertion_strength(case_id: int, run_id: int | None = None) -> dict[str, Any]:
    """Whether the case's checks fail on wrong responses made from a stored run's (its latest by default):
    {case_id, code, run_id, verdict ("strong", "weak", "unknown"), mutants, caught, weak_rows, rows}."""
    case_id = inputs.record_id(case_id, "automation case")
    return strength.assess(case_id, None if run_id is None else inputs.record_id(run_id, "case run"))


def run_junit(run_id: int) -> str:
    """A stored run as JUnit XML: one testcase per row, with spec drift and server defects as properties."""
    run, case_name = catalog.get_run(run_id)
    return runs.junit_xml(run, case_name)


def load_demo_data(*, user: str | None = None) -> dict[str, Any]:
    """The demo scenes and test cases not there yet: {scenes, test_cases} added.

    Engineers and admins load them from the dashboard; ``user=None`` is the operator's command line.
    """
    if user is not None:
        require_operator(current_actor(user), "load the demo data")
    return demo_data.load()


def library_is_empty() -> bool:
    """No scene and no test case yet: a first run, where the dashboard shows its guide."""
    return demo_data.is_empty()



def trace_rows(test_case_id: int | None, method: str, path: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each row's step and each check's expected-result clause in the test case, and the clauses no check
    verifies (see core.library.traceability); nothing to trace without the test case."""
    if test_case_id is None:
        return {"rows": [], "untraced": []}
    try:
        case = catalog.get_test_case(test_case_id)
    except NotFound:  # deleted since: the rows stand alone
        return {"rows": [], "untraced": []}
    return dict(traceability.trace(case["steps"], case["expected_result"], method, path, rows))


MAX_GAP_TASKS = 50
"""Tasks one "launch for the gaps" starts at most: the rest wait for the next."""


def coverage_map(module: str) -> dict[str, Any]:
    """The module's operations × documented statuses × constraint keywords, each cell counting approved rows and
    their last run (see core.library.coverage)."""
    module = inputs.text(module, "The module")
    with session_scope(read_only=True) as session:
        return dict(coverage.module_coverage(session, module))


def launch_for_gaps(module: str, *, user: str, priority: int = 5) -> dict[str, Any]:
    """Starts a task for each operation of the module with a gap (up to MAX_GAP_TASKS), with the scene's newest
    test case; a scene without one gets a test case written for it first ("Cover <operation>").

    Returns {started: [task ids], written: [test case ids], remaining: operations with gaps not started}.
    """
    require_operator(current_actor(user), "launch workflows")
    module = inputs.text(module, "The module")
    with session_scope(read_only=True) as session:
        found = coverage.module_coverage(session, module)
        linked = {scene_id: case_id for case_id, scene_id in coverage.gap_cases(session, found)}
    gapped = [item for item in found["operations"] if item["gaps"]]
    started, written = [], []
    for item in gapped[:MAX_GAP_TASKS]:
        case_id = linked.get(item["scene_id"])
        if case_id is None:
            case_id = catalog.create_test_case(_cover_case(module, item))["id"]
            written.append(case_id)
        started.append(start_workflow(case_id, item["scene_id"], priority=priority, user=user)["task_id"])
    return {"started": started, "written": written, "remaining": len(gapped) - len(started)}


def _cover_case(module: str, item: coverage.OperationCoverage) -> dict[str, Any]:
    codes = ", ".join(item["statuses"]) or "a success status"
    return {"title": f"Cover {item['name'] or item['method'] + ' ' + item['path']}"[:300], "module": module,
            "scene_id": item["scene_id"], "steps": f"1. Send {item['method']} {item['path']} with each row's data",
            "expected_result": f"The documented status for each row ({codes}); untested so far: "
                               f"{', '.join(item['gaps'])}"[:2000]}


__all__ = [
    "DEFAULT_RUN_TIMEOUT_SECONDS", "DEFAULT_TEST_CASE_PRIORITY", "Export", "Preview", "RUN_TOKEN_VARIABLE",
    "TEST_CASE_PRIORITIES", "assertion_strength", "coverage_map", "create_test_case", "export_case", "export_module",
    "get_automation_case", "get_scene", "get_test_case", "import_openapi", "import_test_cases",
    "launch_for_gaps", "library_is_empty", "list_automation_cases", "list_modules", "list_scenes", "list_scenes_page",
    "list_test_cases", "load_demo_data", "preview_test_cases", "row_checks", "run_case", "run_junit",
    "trace_rows", "update_test_case",
]
