"""A server that fails (500) whenever a valid body sends one optional field: the sandbox finds the field, the
repair leaves it out of the rows that are not about it, and says it is a server defect."""

from __future__ import annotations

import json
from typing import Any

from core.generation.offline.server_repairs import failing_left_out
from core.library import environments, sandbox
from core.library.case_requests import case_request
from core.records import DataRow
from tests.support.http_server import serving

SCHEMA = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
    "state": {"type": "object", "properties": {"type": {"type": "string"}, "data": {}, "message": {"type": "string"}}},
    "queue": {"type": "string"},
}}


class Server:
    """POST /runs: 422 without a name, 500 when ``state.data`` is sent (a defect), else 201."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def __call__(self, method: str, path: str, _headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if (method, path) != ("POST", "/runs"):
            return 404, {"detail": "Not Found"}
        sent = json.loads(body or b"{}")
        self.sent.append(sent)
        if "name" not in sent:
            return 422, {"detail": [{"loc": ["body", "name"], "msg": "Field required"}]}
        if "data" in (sent.get("state") or {}):
            return 500, {"exception_message": "Internal Server Error"}
        return 201, {"id": len(self.sent), **sent}


def row(name: str, kind: str, pointer: str, body: dict[str, Any]) -> DataRow:
    return DataRow(name=name, kind=kind, keyword=None if kind == "valid" else "required",  # type: ignore[typeddict-item]
                   pointer=pointer, description="", source="offline",
                   expected_status=201 if kind == "valid" else 422, body=body)


ROWS = [
    row("baseline", "valid", "", {"name": "run_{{$randomInt}}", "tags": ["a"],
                                  "state": {"type": "RUNNING", "data": "demo", "message": "m"}}),
    row("state_data_null", "valid", "/state/data", {"name": "b", "state": {"type": "RUNNING", "data": None}}),
    row("minimal", "valid", "", {"name": "c"}),
    row("no_name", "invalid", "/name", {"state": {"data": "x"}}),
]


def check(server: Server, rows: list[DataRow]) -> Any:
    with serving(server, "runs") as url:
        target = environments.by_hand(url, None)
        return sandbox.check(target, case_request("POST", "/runs", [], rows), rows, None)


def test_the_field_a_server_fails_on_is_found_and_left_out_of_the_rows_not_about_it() -> None:
    server = Server()
    verdicts = check(server, ROWS)["verdicts"]
    assert verdicts["baseline"]["status"] == 500 and verdicts["baseline"]["fails_with"] == ["/state/data"]
    assert verdicts["state_data_null"]["fails_with"] == ["/state/data"], "found once, for every row sending it"
    assert "fails_with" not in verdicts["minimal"] and verdicts["minimal"]["agrees"]
    assert "fails_with" not in verdicts["no_name"], "an invalid row's answer is about what it breaks"
    assert len(server.sent) <= len(ROWS) + sandbox.MAX_FAILURE_SENDS

    repaired = {item["name"]: failing_left_out(item, verdicts[item["name"]], SCHEMA) for item in ROWS}
    body, notes = repaired["baseline"]
    assert body == {"name": "run_{{$randomInt}}", "tags": ["a"], "state": {"type": "RUNNING", "message": "m"}}
    assert notes and "state.data" in notes[0] and "server defect" in notes[0]
    assert repaired["state_data_null"] == (ROWS[1]["body"], []), "a row about the field keeps showing the defect"
    assert repaired["no_name"] == (ROWS[3]["body"], [])

    again = [DataRow(**{**item, "body": repaired[item["name"]][0]}) for item in ROWS]
    verdicts = check(Server(), again)["verdicts"]
    assert verdicts["baseline"]["agrees"] and verdicts["baseline"]["status"] == 201


def test_a_failure_no_field_explains_marks_nothing() -> None:
    class Broken(Server):
        def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
            status, payload = super().__call__(method, path, headers, body)
            return (500, {"error": "down"}) if status == 201 else (status, payload)

    server = Broken()
    verdicts = check(server, ROWS[:1])["verdicts"]
    assert verdicts["baseline"]["status"] == 500 and "fails_with" not in verdicts["baseline"]
    assert len(server.sent) <= 1 + sandbox.MAX_FAILURE_SENDS


class Queues(Server):
    """POST /runs as above, and a rule no document states: a run naming a ``queue`` is refused (400) with a message
    naming another field, as Prefect's "remove work_pool_name" does for a deployment without a work pool."""

    def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        sent = json.loads(body or b"{}")
        if "name" in sent and "queue" in sent:
            self.sent.append(sent)
            return 400, {"detail": f"Cannot create run in queue {sent['queue']} because deployment "
                                   f"{len(self.sent)} has no pool. Please remove pool_name and try again."}
        return super().__call__(method, path, headers, body)


QUEUE_ROWS = [row("baseline", "valid", "", {"name": "run_{{$randomInt}}", "queue": "q_{{$randomInt}}", "tags": []}),
              row("queue_only", "valid", "/queue", {"name": "b", "queue": "q2"}),
              row("no_name", "invalid", "/name", {"queue": "x"})]


def test_a_refusal_the_repair_cannot_act_on_is_searched_in_the_next_round_and_the_field_left_out() -> None:
    first = check(Queues(), QUEUE_ROWS)["verdicts"]
    assert first["baseline"]["status"] == 400 and "fails_with" not in first["baseline"], \
        "the first round leaves the refusal to the repair from its message"
    again = [DataRow(**{**item, "sandbox": first[item["name"]]}) for item in QUEUE_ROWS]
    server = Queues()
    verdicts = check(server, again)["verdicts"]
    assert verdicts["baseline"]["fails_with"] == ["/queue"], "the same refusal (its ids aside) a round later"
    assert verdicts["queue_only"]["fails_with"] == ["/queue"]
    assert "fails_with" not in verdicts["no_name"]
    assert len(server.sent) <= len(QUEUE_ROWS) + sandbox.MAX_FAILURE_SENDS

    body, notes = failing_left_out(again[0], verdicts["baseline"], SCHEMA)
    assert body == {"name": "run_{{$randomInt}}", "tags": []}
    assert notes and "queue" in notes[0] and "refuses" in notes[0] and "defect" not in notes[0]
    assert failing_left_out(again[1], verdicts["queue_only"], SCHEMA) == (again[1]["body"], []), \
        "a row about the field keeps it"
    assert check(Queues(), [DataRow(**{**again[0], "body": body})])["verdicts"]["baseline"]["agrees"]


def test_a_refusal_that_changed_since_the_last_round_is_left_to_the_repair() -> None:
    first = check(Queues(), QUEUE_ROWS[:1])["verdicts"]["baseline"]
    other = {**first, "excerpt": '{"detail":"name must be lower case"}'}
    verdicts = check(Queues(), [DataRow(**{**QUEUE_ROWS[0], "sandbox": other})])["verdicts"]
    assert verdicts["baseline"]["status"] == 400 and "fails_with" not in verdicts["baseline"]
