"""The sandbox run: every row sent to a real server before review, and what the server answered kept.

A row meant to be valid that the server refuses, or an invalid one it accepts, is a row the
reviewer would otherwise find by running the case; step 6 repairs it from the answer. What a
row creates on the sandbox is deleted again where the API offers a way: the Location header,
or an id in the answer plus a DELETE operation on the created resource's path.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.library.runs import CaseRequest
from core.records import DataRow, Verdict
from core.schema import variables

EXCERPT_CHARS = 2000
"""Enough of an answer to read a validation error from."""
ID_KEYS = ("id", "uuid", "key", "name", "slug")


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where the sandbox is and how to talk to it."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)
    """The environment's variables, for ``{{name}}`` in bodies."""
    timeout: float = 10.0


def check(target: Target, request: CaseRequest, rows: list[DataRow], delete_path: str | None) -> dict[str, Verdict]:
    """Sends every row and returns its verdict; resources the rows created are deleted afterwards.

    ``delete_path`` is the path of the DELETE operation on one created resource (``/things/{id}``),
    when the API has one.
    """
    values = {"run_id": f"sandbox-{secrets.token_hex(4)}", **target.values}
    verdicts: dict[str, Verdict] = {}
    created: list[str] = []
    with httpx.Client(base_url=target.base_url, headers=dict(target.headers), timeout=target.timeout) as client:
        for row in rows:
            verdict, location = _send(client, request, row, values, delete_path)
            verdicts[row["name"]] = verdict
            if location:
                created.append(location)
        for location in created:
            try:
                client.delete(location)
            except httpx.HTTPError:
                pass  # the sandbox keeps it; nothing the review depends on
    return verdicts


def _send(client: httpx.Client, request: CaseRequest, row: DataRow, values: Mapping[str, str],
          delete_path: str | None) -> tuple[Verdict, str | None]:
    clock = time.monotonic()
    try:
        body = variables.resolve(row["body"], values)
        response = client.request(request.method, request.path, params=request.query,
                                  **request.body_arguments(body))
    except (httpx.HTTPError, variables.UnknownVariable) as error:
        failed = Verdict(status=None, excerpt=f"request failed: {type(error).__name__}: {error}"[:EXCERPT_CHARS],
                         duration_ms=_since(clock), agrees=False)
        return failed, None
    verdict = Verdict(status=response.status_code, excerpt=response.text[:EXCERPT_CHARS], duration_ms=_since(clock),
                      agrees=agrees(row["kind"], response.status_code))
    return verdict, _created(response, delete_path) if response.is_success else None


def agrees(kind: str, status: int) -> bool:
    """Whether an answer fits a row: 2xx for valid and boundary rows, 4xx for invalid ones."""
    return 200 <= status < 300 if kind in ("valid", "boundary") else 400 <= status < 500


def _created(response: httpx.Response, delete_path: str | None) -> str | None:
    """Where to delete what the request created: its Location, or the answer's id in the DELETE path."""
    if response.request.method != "POST":
        return None
    location = response.headers.get("location")
    if location:
        return location
    if delete_path is None:
        return None
    try:
        data: Any = response.json()
    except ValueError:
        return None
    record = data.get("data", data) if isinstance(data, dict) else None
    ident = next((record[key] for key in ID_KEYS if isinstance(record, dict) and isinstance(record.get(key),
                                                                                          (str, int))), None)
    if ident is None:
        return None
    return re.sub(r"\{[^{}]+\}$", str(ident), delete_path, count=1)


def _since(clock: float) -> int:
    return round((time.monotonic() - clock) * 1000)
