"""Running a case's setup steps before a row: create (or find) what the request's path names, capture ids.

A row of ``PATCH /buckets/{bucket_id}/collections/{id}`` needs a bucket and a collection that
exist. Its setup creates them (``POST /buckets``, then ``POST /buckets/{{bucket_id}}/collections``),
captures each id from the answer into a variable, and the row's path uses the variables; what
the steps created is deleted after the row, newest first, where the API has a DELETE for it.

Standard library only, and the client is any object with httpx's ``request(method, url, **kw)``:
an exported pytest file embeds this module's source beside ``sending``, so the exported test
prepares each row exactly as the in-app runner does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.library.sending import body_arguments, resolved_target, send
from core.schema.variables import resolve

SETUP_EXCERPT_CHARS = 300


class SetupFailed(Exception):
    """A setup step was refused, or its answer held none of the values to capture."""

    def __init__(self, message: str, step: int, status: int | None = None, answer: str = "") -> None:
        super().__init__(message)
        self.step, self.status, self.answer = step, status, answer


def run_setup(client: Any, steps: list[dict[str, Any]], values: Mapping[str, Any],
              headers: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Sends the steps in order: the row's values (``values`` plus every capture) and the paths to delete after it.

    Raises SetupFailed naming the step; what the steps before it created is deleted first.
    """
    values, cleanups = dict(values), []
    try:
        for index, step in enumerate(steps):
            response = _send(client, index, step, values, headers)
            values.update(captured(index, step, response))
            if step.get("cleanup"):
                cleanups.append(resolved_target(step["cleanup"], {}, {}, values)[0])
    except SetupFailed:
        clean_up(client, cleanups)
        raise
    return values, cleanups


def clean_up(client: Any, paths: list[str]) -> None:
    """Deletes what a row's setup created, newest first; a resource that cannot be deleted is left."""
    for path in reversed(paths):
        try:
            client.request("DELETE", path)
        except Exception:  # noqa: BLE001 - any transport error: the server keeps it, the row's result stands
            pass


def _send(client: Any, index: int, step: dict[str, Any], values: dict[str, Any],
          headers: Mapping[str, str]) -> Any:
    path, query, sent_headers = resolved_target(step["path"], step.get("query") or {}, headers, values)
    where = f"setup step {step.get('name') or step['method']} ({step['method']} {path})"
    try:
        body = resolve(step.get("body"), values)
        response = send(client, step["method"], path, params=query, headers=sent_headers,
                        **body_arguments(step.get("media_type") or "application/json",
                                         step.get("body") is not None, body))
    except Exception as error:  # noqa: BLE001 - a transport error or an unknown variable, reported as the step's
        raise SetupFailed(f"{where} failed: {type(error).__name__}: {error}", index) from None
    if not 200 <= response.status_code < 300:
        raise SetupFailed(f"{where} answered {response.status_code}: {response.text[:SETUP_EXCERPT_CHARS]}", index,
                          response.status_code, response.text)
    return response


def captured(index: int, step: dict[str, Any], response: Any) -> dict[str, Any]:
    """The step's variables from its answer: the first of each one's dotted paths that holds a value (a number
    stays one, for a body field that refers to it), else the last segment of the Location header."""
    try:
        data: Any = json.loads(response.text)
    except ValueError:
        data = None
    location = (response.headers.get("location") or "").rstrip("/").rsplit("/", 1)[-1]
    found: dict[str, Any] = {}
    for name, paths in (step.get("captures") or {}).items():
        value = next((value for value in (at_path(data, path) for path in paths) if value is not None), None)
        if value is None and not location:
            raise SetupFailed(f"setup step {step.get('name') or step['method']} answered {response.status_code} "
                              f"without {' or '.join(paths) or 'a value'} for {{{{{name}}}}}: "
                              f"{response.text[:SETUP_EXCERPT_CHARS]}", index)
        found[name] = location if value is None else value
    return found


def at_path(data: Any, path: str) -> str | int | float | None:
    """The scalar (text or number) at a dotted path ("data.id", "dags.0.dag_id"); None when there is none."""
    node = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    if isinstance(node, bool) or not isinstance(node, (str, int, float)):
        return None
    return node
