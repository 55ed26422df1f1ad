"""Property: the service door and the importers answer any input with a result or a CaseFlowError.

Hypothesis generates bad input (text with NUL and control characters, huge strings, integers
past 64 bits, wrong types, nested junk, random bytes and half-valid OpenAPI documents) for the
calls entry points make. Every call must return or raise a CaseFlowError, never another
exception, and a refused call must leave every table's row count as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core import service
from core.errors import CaseFlowError
from core.library.importers import documents, manual_cases, openapi, uploads
from tests.support.db import row_counts

BOUNDED = settings(max_examples=300, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.data_too_large])

texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x20), max_size=10),
    st.sampled_from(["", " ", "a\x00b", "\u202eevil", "x" * 250, "x" * 100_000, "UC99999999999999999999999",
                     "SC001", "admin", "%", "'; DROP TABLE users; --", "pending", "scenes"]),
)
numbers = st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**80), st.integers(max_value=0),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1, 2, 3, 2**63, -(2**63)]))
leaves = st.one_of(st.none(), st.booleans(), numbers, texts, st.binary(max_size=20))
junk = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                    max_leaves=8)
anything = st.one_of(junk, texts, numbers)


def mostly(good: Any, bad: Any = anything) -> Any:
    """Usually ``good`` (so the call goes past its first check), sometimes ``bad``."""
    return st.integers(min_value=0, max_value=3).flatmap(lambda pick: bad if pick == 0 else good)


ids = mostly(st.integers(min_value=1, max_value=12), st.one_of(numbers, junk))
pages = mostly(st.integers(min_value=0, max_value=50), st.one_of(numbers, junk))
moments = st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)), st.datetimes(), junk)


@st.composite
def schemas(draw: st.DrawFn, depth: int = 0) -> Any:
    """Schema objects that are nearly right: real keywords with junk, $refs that may loop or dangle."""
    node: dict[str, Any] = {"type": draw(st.sampled_from(["object", "string", "integer", "number", "array"]))}
    for keyword in draw(st.lists(st.sampled_from(["pattern", "maximum", "minimum", "enum", "$ref", "format",
                                                  "multipleOf", "nullable", "example"]), max_size=3)):
        node[keyword] = draw(st.sampled_from(["#/components/schemas/S", "#/components/schemas/Nope", "[a-"])
                             if keyword == "$ref" else anything)
    if depth < 2 and draw(st.booleans()):
        node["properties"] = {draw(texts): draw(schemas(depth + 1)) for _ in range(draw(st.integers(0, 2)))}
    return node


@st.composite
def openapi_documents(draw: st.DrawFn) -> bytes:
    """Random bytes, or an OpenAPI document with junk in places, as JSON or YAML."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=200))
    operation = {"operationId": draw(st.one_of(texts, junk)), "responses": draw(st.one_of(
        st.just({"200": {"description": "ok"}}), junk)),
        "parameters": draw(st.one_of(st.none(), st.lists(st.one_of(junk, st.fixed_dictionaries(
            {"name": texts, "in": st.sampled_from(["query", "path", "header"]), "schema": schemas()})), max_size=2))),
        "requestBody": {"content": {"application/json": {"schema": draw(schemas())}}}}
    content = {"openapi": draw(st.sampled_from(["3.0.3", "3.1.0", "2.0", 3.0])),
               "info": {"title": draw(texts), "version": "1"},
               "paths": draw(st.one_of(st.just({"/x/{id}": {"post": operation}}), junk)),
               "components": {"schemas": {"S": draw(schemas())},
                              "parameters": {"P": {"$ref": "#/components/parameters/P"}}}}
    try:
        return (json.dumps(content) if draw(st.booleans()) else yaml.safe_dump(content)).encode("utf-8", "replace")
    except (TypeError, ValueError, yaml.YAMLError):  # bytes or surrogates in the junk
        return json.dumps(content, default=repr).encode("utf-8", "replace")


@st.composite
def tables(draw: st.DrawFn) -> bytes:
    header = draw(st.sampled_from(["title,expected result,priority,scene", "title;expected result", "module,steps",
                                   "标题,预期结果"]))
    rows = draw(st.lists(st.lists(st.one_of(texts, numbers.map(str)), min_size=1, max_size=4), max_size=4))
    text = header + "\n" + "\n".join(",".join(cell.replace("\n", " ") for cell in row) for row in rows)
    return draw(st.one_of(st.just(text.encode("utf-8", "replace")), st.binary(max_size=100)))


def doors(users: dict[str, str]) -> dict[str, Callable[[st.DataObject], Any]]:
    """Each door with generated arguments; the acting user is mostly a real one, so the call goes deep."""
    admin = users["admin"]

    def user(data: st.DataObject) -> Any:
        return data.draw(mostly(st.sampled_from(list(users.values()))), "user")

    def draw(data: st.DataObject, strategy: Any, label: str) -> Any:
        return data.draw(strategy, label)

    return {
        "list_tasks": lambda d: service.list_tasks(
            status=draw(d, st.one_of(st.none(), st.sampled_from(["pending", "failed"]), anything), "status"),
            user=draw(d, st.one_of(st.none(), texts, junk), "owner"), search=draw(d, anything, "search"),
            limit=draw(d, pages, "limit"), offset=draw(d, pages, "offset"), created_from=draw(d, moments, "from"),
            created_to=draw(d, moments, "to")),
        "get_task": lambda d: service.get_task(draw(d, ids, "id")),
        "cancel_task": lambda d: service.cancel_task(draw(d, ids, "id"), user=user(d)),
        "retry_task": lambda d: service.retry_task(draw(d, ids, "id"), user=user(d)),
        "cancel_tasks": lambda d: service.cancel_tasks(draw(d, st.one_of(st.lists(ids, max_size=3), junk), "ids"),
                                                       user=user(d)),
        "retry_tasks": lambda d: service.retry_tasks(draw(d, st.one_of(st.lists(ids, max_size=3), junk), "ids"),
                                                     user=user(d)),
        "start_workflow": lambda d: service.start_workflow(
            draw(d, ids, "case"), draw(d, st.one_of(st.just("SC001"), anything), "scene"),
            priority=draw(d, st.one_of(st.integers(-2, 12), anything), "priority"), user=user(d)),
        "task_details": lambda d: [call(draw(d, ids, "id")) for call in (
            service.task_timeline, service.queue_position, service.task_steps, service.reviews_of_task,
            service.ai_calls_of_task)],
        "explain_task": lambda d: service.explain_task(draw(d, ids, "id"), zone=draw(d, anything, "zone")),
        "review_queue": lambda d: service.review_queue(limit=draw(d, pages, "limit"), offset=draw(d, pages, "offset")),
        "events_since": lambda d: service.events_since(user(d), draw(d, ids, "after"), limit=draw(d, ids, "limit")),
        "list_test_cases": lambda d: service.list_test_cases(
            search=draw(d, anything, "search"), module=draw(d, anything, "module"),
            scene_id=draw(d, anything, "scene"), limit=draw(d, pages, "limit"), offset=draw(d, pages, "offset")),
        "get_test_case": lambda d: service.get_test_case(draw(d, ids, "id")),
        "create_test_case": lambda d: service.create_test_case(draw(d, st.one_of(junk, st.fixed_dictionaries(
            {}, optional={field: anything for field in ("title", "module", "steps", "expected_result", "priority",
                                                        "scene_id", "preconditions")})), "values"), user=user(d)),
        "update_test_case": lambda d: service.update_test_case(draw(d, ids, "id"), draw(d, st.one_of(
            junk, st.fixed_dictionaries({"title": anything, "expected_result": anything})), "values"), user=user(d)),
        "list_scenes": lambda d: service.list_scenes(draw(d, anything, "module"), search=draw(d, anything, "search")),
        "get_scene": lambda d: service.get_scene(draw(d, anything, "scene")),
        "list_modules": lambda d: service.list_modules(draw(d, anything, "kind")),
        "list_automation_cases": lambda d: service.list_automation_cases(
            search=draw(d, anything, "search"), module=draw(d, anything, "module"), limit=draw(d, pages, "limit"),
            offset=draw(d, pages, "offset")),
        "get_automation_case": lambda d: service.get_automation_case(draw(d, ids, "id")),
        "export_case": lambda d: service.export_case(draw(d, ids, "id"), "json"),
        "run_case": lambda d: service.run_case(draw(d, ids, "id"), draw(d, anything, "base_url"), user=user(d),
                                               timeout=draw(d, anything, "timeout")),
        "import_openapi": lambda d: service.import_openapi(
            draw(d, mostly(openapi_documents()), "data"),
            draw(d, mostly(st.sampled_from(["api.json", "api.yaml"])), "filename"), user=user(d),
            module=draw(d, st.one_of(st.none(), anything), "module"), dry_run=draw(d, st.booleans(), "dry")),
        "preview_test_cases": lambda d: service.preview_test_cases(
            draw(d, mostly(tables()), "data"),
            draw(d, mostly(st.sampled_from(["cases.csv", "cases.xlsx"])), "filename")),
        "import_test_cases": lambda d: service.import_test_cases(
            draw(d, mostly(tables()), "data"),
            draw(d, mostly(st.sampled_from(["cases.csv", "cases.xlsx"])), "filename"), user=user(d)),
        "authenticate": lambda d: service.authenticate(
            draw(d, st.one_of(st.sampled_from(list(users.values())), anything), "username"),
            draw(d, anything, "password"), now=draw(d, st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
                                                    "now")),
        "add_user": lambda d: service.add_user(draw(d, anything, "username"),
                                               draw(d, st.one_of(st.just("viewer"), anything), "role"),
                                               draw(d, st.one_of(st.none(), anything), "password"), user=admin),
        "update_user": lambda d: service.update_user(
            draw(d, st.one_of(st.just(users["viewer"]), anything), "username"),
            role=draw(d, st.one_of(st.none(), anything), "role"), active=draw(d, st.one_of(st.none(), anything), "on"),
            password=draw(d, st.one_of(st.none(), anything), "password"), user=admin),
        "change_password": lambda d: service.change_password(user(d), draw(d, anything, "current"),
                                                             draw(d, anything, "new")),
    }


def test_every_door_answers_junk_with_a_result_or_a_typed_error(demo: dict[str, Any], users: dict[str, str]) -> None:
    calls = doors(users)

    @BOUNDED
    @given(data=st.data())
    def door_answers(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(calls)), "door")
        before = row_counts()
        try:
            calls[name](data)
        except CaseFlowError as error:
            event(f"{name}: {type(error).__name__}")
            after = row_counts()
            if name == "change_password":  # a wrong current password is a failed sign-in, counted on purpose
                after["sign_in_failures"] = before["sign_in_failures"]
            assert after == before, f"{name} refused but wrote"
        else:
            event(f"{name}: answered")

    door_answers()


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                 HealthCheck.data_too_large])
@given(data=st.one_of(openapi_documents(), st.binary(max_size=300)),
       filename=st.sampled_from(["api.json", "api.yaml", "api.yml"]))
def test_the_openapi_importer_converts_or_refuses_any_bytes(data: bytes, filename: str) -> None:
    try:
        openapi.scenes_of(documents.check(documents.parse(*uploads.check(data, filename))))
    except CaseFlowError:
        pass


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(tables(), st.binary(max_size=300)), filename=st.sampled_from(["c.csv", "c.xlsx", "c.txt"]))
def test_the_table_reader_reads_or_refuses_any_bytes(data: bytes, filename: str) -> None:
    try:
        manual_cases.read_table(data, filename)
    except CaseFlowError:
        pass
