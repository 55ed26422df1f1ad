"""`python -m core api`, `api-token` and `webhook` as an operator runs them.

`api` runs as its own process; `api-token` and `webhook` go through the same command line
in this process (`core.cli.main`), which spares a 5-10 s interpreter start per command.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import service
from tests.support.cli import in_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def command(capsys: pytest.CaptureFixture[str]) -> Any:
    """Runs ``python -m core ARGS`` in this process: (exit code, JSON printed on stdout or stderr)."""

    return lambda *args: in_process(capsys, *args)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_api_command_serves_the_api_docs_and_metrics(db_url: str, users: dict[str, str]) -> None:
    token = service.create_api_token(users["viewer"])["token"]
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "api", "--port", str(port)], cwd=ROOT, stdin=subprocess.DEVNULL,
        env={**os.environ, "DATABASE_URL": db_url, "RUN_SCHEDULER": "false"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10)
        deadline = time.monotonic() + 60
        while True:
            try:
                document = client.get("/openapi.json").json()
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "python -m core api did not start"
                time.sleep(0.1)
        assert "/api/v1/automation/workflow/start" in document["paths"]
        assert client.get("/docs").status_code == 200
        tasks = client.get("/api/v1/automation/workflow/tasks", headers={"Authorization": f"Bearer {token}"})
        assert tasks.status_code == 200 and tasks.json()["total"] == 0
        assert "caseflow_api_requests_total" in client.get("/metrics").text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode in (0, -signal.SIGTERM), output  # uvicorn re-raises the signal once it has stopped
    assert "Application shutdown complete" in output
    assert token not in output and "Traceback" not in output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_api_token_prints_the_token_once(db_url: str, users: dict[str, str], command: Any) -> None:
    code, printed = command("api-token", "--username", users["engineer"], "--name", "ci")
    assert code == 0 and list(printed) == ["token"] and printed["token"].startswith("cf_")
    assert service.authenticate_token(printed["token"]).username == users["engineer"]
    listed = service.list_api_tokens(user=users["engineer"])
    assert [item["name"] for item in listed] == ["ci"] and printed["token"] not in json.dumps(listed)
    assert command("api-token", "--username", "nobody") == (2, {"error": "not_found",
                                                               "message": "No active user called 'nobody'."})
    assert command("api", "--port", "70000")[1]["error"] == "invalid_input"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_webhook_add_list_log_remove(db_url: str, users: dict[str, str], command: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEFLOW_USER", users["admin"])  # the operator acts as admin where no --user is given
    code, added = command("webhook", "add", "--url", "https://hooks.slack.com/services/T1/B2/abcdefSECRET",
                          "--kind", "slack", "--module", "payments", "--events", "failed,completed")
    assert code == 0 and added["url"] == "https://hooks.slack.com/…CRET" and added["events"] == ["failed", "completed"]
    code, refused = command("webhook", "add", "--url", "http://169.254.169.254/latest/meta-data/",
                            "--user", users["engineer"])
    assert code == 2 and refused["error"] == "invalid_input"
    assert refused["message"].startswith("The webhook URL's address 169.254.169.254 is a link-local address")
    assert "WEBHOOK_ALLOW_PRIVATE=true" in refused["message"]
    code, generic = command("webhook", "add", "--url", "https://ci.example.com/hook", "--user", users["engineer"])
    assert code == 0 and len(generic["secret"]) >= 32 and generic["user"] == users["engineer"]
    monkeypatch.setenv("DING_SECRET", "SEC" + "x" * 30)
    code, signed = command("webhook", "add", "--url", "https://oapi.dingtalk.com/robot/send?access_token=t0k3n",
                           "--kind", "dingtalk", "--owner", users["engineer"], "--secret-env", "DING_SECRET")
    assert code == 0 and signed["signed"] and "secret" not in signed

    code, listed = command("webhook", "list")
    assert code == 0 and [hook["id"] for hook in listed] == [added["id"], generic["id"], signed["id"]]
    for hidden in ("SECRET", generic["secret"], "t0k3n", "x" * 30):
        assert hidden not in json.dumps(listed)
    assert command("webhook", "log") == (0, {"total": 0, "items": [], "limit": 20, "offset": 0})
    code, error = command("webhook", "add", "--url", "http://x/h", "--module", "m", "--user", users["engineer"])
    assert code == 2 and error["error"] == "forbidden"
    code, error = command("webhook", "add", "--url", "http://x/h", "--kind", "dingtalk", "--secret-env", "NO_SUCH")
    assert code == 2 and error["error"] == "invalid_input"
    assert command("webhook", "remove", str(added["id"]))[1]["id"] == added["id"]
    assert [hook["id"] for hook in command("webhook", "list")[1]] == [generic["id"], signed["id"]]
    code, printed = command("secret-key")
    assert code == 0 and list(printed) == ["key"] and len(base64.urlsafe_b64decode(printed["key"])) == 32
