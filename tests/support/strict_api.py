"""A real HTTP server that is stricter than its own OpenAPI document, as real servers are.

It publishes an OpenAPI 3.1 document (``DOCUMENT``, also at ``GET /openapi.json``), validates
request bodies against it with jsonschema alone (none of CaseFlow's code), and answers errors the
way FastAPI does (``{"detail": [{"type", "loc", "msg"}]}``). On top of the schema it enforces rules
the document does not state:

- ``name`` of a project must be a lowercase identifier (``[a-z][a-z0-9_]*``): 422, type value_error;
- project names and note titles are unique: 409 ``{"detail": "Project 'x' already exists"}``;
- ``PUT /projects/{project_name}/settings`` answers 404 unless the project exists (after the body checks);
  ``DELETE /projects/{project_name}`` removes one, named by its name or its id (204, or 404);
- ``POST /tasks`` refers to a project by its integer ``id`` (``project_id``): 422 unless that project exists;
- ``PUT /archive`` names a project by a field whose name does not say so (``fallback_project_id``): 404
  ``{"detail": "Project 12 not found"}`` unless that project exists;
- ``POST /notes`` is documented as 200 but answers 201 (spec drift), and crashes with a 500 when a
  note has more than three tags although the schema allows five (a server defect);
- with ``projects_fail``, ``POST /projects`` fails (500) after its body checks;
- with a ``token``, a request without ``Authorization: Bearer <token>`` gets 401.

Every request is kept in ``api.received`` with the status it got and the ``rule`` that decided it
("ok", "schema", "lowercase", "duplicate", "no_project", "no_fallback", "defect", "auth", "no_route",
"deleted"), so a test can check any counting of its answers against what the server itself did.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from jsonschema import Draft202012Validator

from tests.support.http_server import serving

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
MAX_TAGS_HANDLED = 3

PROJECT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 3, "maxLength": 30, "description": "The project's name."},
        "description": {"type": "string", "maxLength": 200},
        "slots": {"type": "integer", "minimum": 1, "maximum": 50},
        "visibility": {"type": "string", "enum": ["public", "private"]},
    },
    "required": ["name", "slots"],
    "additionalProperties": False,
}
NOTE = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 80},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 20}, "maxItems": 5},
        "priority": {"type": "integer", "minimum": 0, "maximum": 9},
    },
    "required": ["title"],
}
TASK = {
    "type": "object",
    "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 80},
                   "project_id": {"type": "integer", "minimum": 1, "description": "The project it belongs to."}},
    "required": ["title", "project_id"],
}
SETTINGS = {
    "type": "object",
    "properties": {"retention_days": {"type": "integer", "minimum": 1, "maximum": 365},
                   "archived": {"type": "boolean"}},
    "required": ["retention_days"],
}
ARCHIVE = {
    "type": "object",
    "properties": {"fallback_project_id": {"type": "integer", "minimum": 1, "description": "Where archived tasks go."},
                   "reason": {"type": "string", "maxLength": 80}},
    "required": ["fallback_project_id"],
}
ERROR = {"type": "object", "properties": {"detail": {}}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(success: str, *errors: str) -> dict[str, Any]:
    described = {"200": "OK", "201": "Created", "404": "Not found", "409": "Conflict", "422": "Validation Error"}
    result = {success: {"description": described[success], **_json({"type": "object"})}}
    result.update({code: {"description": described[code], **_json(ERROR)} for code in errors})
    return result


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Strict API", "version": "1.0.0"},
    "paths": {
        "/projects": {"post": {"operationId": "createProject", "summary": "Create a project",
                               "requestBody": {"required": True, **_json(PROJECT)},
                               "responses": _responses("201", "409", "422")}},
        "/projects/{project_name}/settings": {"put": {
            "operationId": "putProjectSettings", "summary": "Replace a project's settings",
            "parameters": [{"name": "project_name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, **_json(SETTINGS)}, "responses": _responses("200", "404", "422")}},
        "/projects/{project_name}": {"delete": {
            "operationId": "deleteProject", "summary": "Delete a project",
            "parameters": [{"name": "project_name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"204": {"description": "Deleted"}, "404": {"description": "Not found", **_json(ERROR)}}}},
        "/tasks": {"post": {"operationId": "createTask", "summary": "Create a task in a project",
                            "requestBody": {"required": True, **_json(TASK)}, "responses": _responses("201", "422")}},
        "/archive": {"put": {"operationId": "putArchive", "summary": "Set where archived tasks go",
                             "requestBody": {"required": True, **_json(ARCHIVE)},
                             "responses": _responses("200", "404", "422")}},
        "/notes": {"post": {"operationId": "createNote", "summary": "Create a note",
                            "requestBody": {"required": True, **_json(NOTE)}, "responses": _responses("200", "422")}},
    },
}


@dataclass
class StrictApi:
    token: str | None = None
    projects_fail: bool = False
    base_url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    projects: set[str] = field(default_factory=set)
    project_ids: dict[int, str] = field(default_factory=dict)
    titles: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def document(self) -> bytes:
        return json.dumps(DOCUMENT).encode("utf-8")

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        path = urlsplit(target).path
        if method == "GET" and path == "/openapi.json":
            return 200, DOCUMENT
        with self._lock:  # one request at a time: uniqueness holds under concurrent runs too
            rule, status, payload = self._decide(method, path, headers, raw)
            self.received.append({"method": method, "path": path, "body": raw.decode("utf-8", "replace"),
                                  "status": status, "rule": rule})
        return status, payload

    def _decide(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[str, int, Any]:
        if self.token and headers.get("authorization") != f"Bearer {self.token}":
            return "auth", 401, {"detail": "Not authenticated"}
        settings = re.fullmatch(r"/projects/([^/]+)/settings", path)
        project = re.fullmatch(r"/projects/([^/]+)", path)
        if project and method == "DELETE":
            return self._delete(unquote(project.group(1)))
        route = {("POST", "/projects"): PROJECT, ("POST", "/notes"): NOTE, ("POST", "/tasks"): TASK,
                 ("PUT", "/archive"): ARCHIVE}.get((method, path))
        if settings and method == "PUT":
            route = SETTINGS
        if route is None:
            return "no_route", 404, {"detail": "Not Found"}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return "schema", 422, {"detail": [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}]}
        errors = _errors(route, body)
        if errors:
            return "schema", 422, {"detail": errors}
        if route is ARCHIVE:
            if body["fallback_project_id"] not in self.project_ids:
                return "no_fallback", 404, {"detail": f"Project {body['fallback_project_id']} not found"}
            return "ok", 200, body
        if route is not SETTINGS:
            return self._created(route, body)
        project = unquote(settings.group(1)) if settings else ""
        if project not in self.projects:
            return "no_project", 404, {"detail": f"Project {project!r} not found"}
        return "ok", 200, body

    def _created(self, route: dict[str, Any], body: dict[str, Any]) -> tuple[str, int, Any]:
        if route is PROJECT:
            return self._project(body)
        if route is TASK:
            if body["project_id"] not in self.project_ids:
                message = f"Value error, project {body['project_id']} does not exist"
                return "no_project", 422, {"detail": [{"type": "value_error", "loc": ["body", "project_id"],
                                                       "msg": message}]}
            return "ok", 201, {"id": len(self.received) + 1, **body}
        if len(body.get("tags") or []) > MAX_TAGS_HANDLED:
            return "defect", 500, "Internal Server Error"
        if body["title"] in self.titles:
            return "duplicate", 409, {"detail": f"A note titled {body['title']!r} already exists"}
        self.titles.add(body["title"])
        return "ok", 201, {"id": len(self.titles), **body}

    def _delete(self, name: str) -> tuple[str, int, Any]:
        name = self.project_ids.get(int(name), name) if name.isdigit() else name
        if name not in self.projects:
            return "no_project", 404, {"detail": f"Project {name!r} not found"}
        self.projects.discard(name)
        self.project_ids = {ident: kept for ident, kept in self.project_ids.items() if kept != name}
        return "deleted", 204, None

    def _project(self, body: dict[str, Any]) -> tuple[str, int, Any]:
        if self.projects_fail:
            return "defect", 500, "Internal Server Error"
        name = body["name"]
        if not IDENTIFIER.fullmatch(name):
            message = "Value error, the name must be a lowercase identifier: letters a-z, digits and _"
            return "lowercase", 422, {"detail": [{"type": "value_error", "loc": ["body", "name"], "msg": message}]}
        if name in self.projects:
            return "duplicate", 409, {"detail": f"Project {name!r} already exists"}
        self.projects.add(name)
        ident = len(self.received) + 1  # never reused
        self.project_ids[ident] = name
        return "ok", 201, {"id": ident, **body}


def _errors(schema: dict[str, Any], body: Any) -> list[dict[str, Any]]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [{"type": str(error.validator), "loc": ["body", *error.absolute_path], "msg": error.message}
            for error in validator.iter_errors(body)]


@contextmanager
def serve(token: str | None = None) -> Iterator[StrictApi]:
    """Runs the server on a free loopback port until the block ends; ``api.base_url`` is its address."""
    api = StrictApi(token=token)

    with serving(lambda method, target, headers, raw: api.answer(
            method, target, {name.lower(): value for name, value in headers.items()}, raw), "strict-api") as base_url:
        api.base_url = base_url
        yield api


def reviewing_task(api: StrictApi, user: str, scene_id: str, title: str, *, default: bool = False) -> dict[str, Any]:
    """The server's document imported, a test case for ``scene_id``, the server as the module's sandbox (and its
    default environment with ``default``), and a task started on it: the task once it awaits review."""
    from core import service
    from tests.conftest import wait_for

    service.import_openapi(api.document, "strict.json", user=user)
    [case_id] = service.import_test_cases(
        f"title,module,scene_id,expected_result\n{title},Projects,{scene_id},2xx as documented\n".encode(),
        "cases.csv", user=user)["ids"]
    service.create_environment({"name": "staging", "base_url": api.base_url, "sandbox_for": ["Projects"],
                                "default_for": ["Projects"] if default else []}, user=user)
    return wait_for(service.start_workflow(case_id, scene_id, user=user)["task_id"], "reviewing")
