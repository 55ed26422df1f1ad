"""Webhooks delivered by the running worker to a real local HTTP server: signatures, chat formats, retries, log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from core import service
from core.database import session_scope
from core.errors import Forbidden, InvalidInput
from db.models import Webhook, WebhookDelivery
from tests.api.conftest import Api, task_in, wait_until
from tests.support.cases import first_case_and_scene

WORKFLOW = "/api/v1/automation/workflow"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    """A local HTTP server that records every POST; ``failures[path]`` 500s come first on that path."""

    url: str
    received: list[Received] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def at(self, path: str) -> list[Received]:
        return [item for item in self.received if item.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                state.received.append(Received(parts.path, parse_qs(parts.query), dict(self.headers), raw))
                failing = state.failures.get(parts.path, 0)
                state.failures[parts.path] = max(failing - 1, 0)
            answer = json.dumps(state.answers.get(parts.path, {"ok": True})).encode()
            self.send_response(500 if failing else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def api_for_local_webhooks(demo: dict[str, Any], start_api: Callable[..., Api]) -> Api:
    """The API and its worker, allowed to send webhooks to this machine's receiver (127.0.0.1 is refused by default)."""
    return start_api(WEBHOOK_ALLOW_PRIVATE="true")


def _start_and_approve(api: Api, **start: Any) -> dict[str, Any]:
    alice = api.client("engineer")
    case_id, scene_id = first_case_and_scene()
    started = alice.post(f"{WORKFLOW}/start", json={"test_case_id": case_id, "scene_id": scene_id, **start}).json()
    task_in(alice, started["task_id"], "reviewing")
    approved = alice.post(f"{WORKFLOW}/{started['thread_id']}/review", json={"review_status": "approved"})
    assert approved.status_code == 200, approved.text
    return started


@SQLITE_ONLY
def test_a_generic_webhook_gets_signed_notices_of_the_users_tasks(api_for_local_webhooks: Api, receiver: Receiver,
                                                                 users: dict[str, str]) -> None:
    api = api_for_local_webhooks
    hook = service.add_webhook(f"{receiver.url}/generic?key=SECRETKEY1234", user=users["engineer"], name="ci")
    secret = hook["secret"]
    assert len(secret) >= 32 and "SECRETKEY" not in hook["url"] and hook["url"].endswith("1234")
    started = _start_and_approve(api)
    notices = wait_until(lambda: receiver.at("/generic"), lambda got: len(got) == 2, what="two notices")

    for notice in notices:
        expected = "sha256=" + hmac.new(secret.encode(), notice.raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(notice.headers["X-CaseFlow-Signature"], expected)
        assert secret not in notice.raw.decode() and secret not in json.dumps(notice.headers)
    assert [n.body["event"] for n in notices] == ["need_review", "completed"]
    assert [n.headers["X-CaseFlow-Event"] for n in notices] == ["need_review", "completed"]
    first = notices[0].body
    assert first["task"]["thread_id"] == started["thread_id"] and first["task"]["user"] == users["engineer"]
    assert first["task"]["status"] == "reviewing" and first["occurred_at"].endswith("Z")
    assert notices[1].body["task"]["new_usercase_id"].startswith("UC")

    log = wait_until(lambda: service.webhook_deliveries(user=users["engineer"]),
                     lambda log: {item["status"] for item in log["items"]} == {"delivered"}, what="both logged")
    assert log["total"] == 2 and [item["event"] for item in log["items"]] == ["completed", "need_review"]
    assert all(item["attempts"] == 1 and item["response_status"] == 200 for item in log["items"])
    assert "secret" not in service.list_webhooks(user=users["engineer"])[0]


def test_chat_formats_module_scope_event_filters_and_retries(api_for_local_webhooks: Api, receiver: Receiver,
                                                            users: dict[str, str]) -> None:
    api = api_for_local_webhooks
    admin = users["admin"]
    signing = "SEC0123456789abcdef"
    receiver.failures["/flaky"] = 1
    receiver.answers["/dingtalk"] = {"errcode": 0, "errmsg": "ok"}
    receiver.answers["/feishu"] = {"code": 0, "msg": "success"}
    for kind in ("wecom", "slack"):
        service.add_webhook(f"{receiver.url}/{kind}", kind=kind, module="payments", events=["need_review"], user=admin)
    for kind in ("dingtalk", "feishu"):
        service.add_webhook(f"{receiver.url}/{kind}", kind=kind, module="payments", events=["need_review"],
                            secret=signing, user=admin)
    flaky_secret = service.add_webhook(f"{receiver.url}/flaky", module="payments", events=["completed"],
                                       user=admin)["secret"]
    service.add_webhook(f"{receiver.url}/other-module", module="billing", user=admin)
    service.add_webhook(f"{receiver.url}/failures-only", owner=users["engineer"], events=["failed"], user=admin)

    started = _start_and_approve(api, module_id="payments", name="注册接口")
    wait_until(lambda: receiver.received, lambda got: {r.path for r in got} >= {"/wecom", "/slack", "/dingtalk",
                                                                                   "/feishu", "/flaky"},
               what="every chat webhook and the retried one")
    wecom, = receiver.at("/wecom")
    assert wecom.body["msgtype"] == "text" and started["thread_id"] in wecom.body["text"]["content"]
    assert "注册接口" in wecom.body["text"]["content"] and "needs review" in wecom.body["text"]["content"]
    slack, = receiver.at("/slack")
    assert set(slack.body) == {"text"} and started["thread_id"] in slack.body["text"]

    dingtalk, = receiver.at("/dingtalk")
    assert dingtalk.body["msgtype"] == "text"
    timestamp, sign = dingtalk.query["timestamp"][0], dingtalk.query["sign"][0]
    digest = hmac.new(signing.encode(), f"{timestamp}\n{signing}".encode(), hashlib.sha256).digest()
    assert sign == base64.b64encode(digest).decode()
    feishu, = receiver.at("/feishu")
    assert feishu.body["msg_type"] == "text" and started["thread_id"] in feishu.body["content"]["text"]
    digest = hmac.new(f"{feishu.body['timestamp']}\n{signing}".encode(), b"", hashlib.sha256).digest()
    assert feishu.body["sign"] == base64.b64encode(digest).decode()
    for item in receiver.received:
        assert signing not in item.raw.decode() and signing not in json.dumps(item.query)

    flaky = wait_until(lambda: receiver.at("/flaky"), lambda got: len(got) == 2, what="a retry after a 500")
    assert flaky[0].raw == flaky[1].raw and flaky[1].body["event"] == "completed"
    signature = "sha256=" + hmac.new(flaky_secret.encode(), flaky[1].raw, hashlib.sha256).hexdigest()
    assert flaky[1].headers["X-CaseFlow-Signature"] == signature
    log = wait_until(lambda: service.webhook_deliveries(user=admin)["items"],
                     lambda items: any(i["attempts"] == 2 and i["status"] == "delivered" for i in items),
                     what="the retried delivery logged as delivered")
    assert len(log) == 5, "need_review to four chat webhooks, completed to the flaky one; none elsewhere"
    assert not receiver.at("/other-module") and not receiver.at("/failures-only")


@SQLITE_ONLY
def test_who_may_manage_webhooks(db_url: str, users: dict[str, str]) -> None:
    alice, bob, viewer, admin = users["engineer"], users["engineer2"], users["viewer"], users["admin"]
    with pytest.raises(Forbidden):
        service.add_webhook("https://example.com/hook", user=viewer)
    with pytest.raises(Forbidden):
        service.add_webhook("https://example.com/hook", module="payments", user=alice)
    with pytest.raises(Forbidden):
        service.add_webhook("https://example.com/hook", owner=bob, user=alice)
    for url, kind in (("ftp://example.com/x", "generic"), ("not a url", "generic"),
                      ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "teams")):
        with pytest.raises(InvalidInput):
            service.add_webhook(url, kind=kind, user=alice)
    with pytest.raises(InvalidInput):
        service.add_webhook("https://hooks.slack.com/services/T/B/X", kind="slack", secret="s" * 20, user=alice)
    with pytest.raises(InvalidInput):
        service.add_webhook("https://example.com/hook", events=["started"], user=alice)

    mine = service.add_webhook("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd-7777", kind="wecom",
                               user=alice)
    assert mine["url"] == "https://qyapi.weixin.qq.com/…7777" and "secret" not in mine and not mine["signed"]
    assert [hook["id"] for hook in service.list_webhooks(user=alice)] == [mine["id"]]
    assert service.list_webhooks(user=bob) == []
    with pytest.raises(Forbidden):
        service.remove_webhook(mine["id"], user=bob)
    with pytest.raises(Forbidden):
        service.webhook_deliveries(user=bob, webhook_id=mine["id"])
    assert [hook["id"] for hook in service.list_webhooks(user=admin)] == [mine["id"]]
    assert service.remove_webhook(mine["id"], user=alice)["id"] == mine["id"]
    assert service.list_webhooks(user=admin) == []


def _stored_secrets() -> list[str | None]:
    with session_scope() as session:
        return list(session.scalars(select(Webhook.encrypted_secret).order_by(Webhook.id)))


@SQLITE_ONLY
def test_the_api_manages_webhooks_and_refuses_internal_addresses(api_without_worker: Api, users: dict[str, str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import get_settings

    alice, bob = api_without_worker.client("engineer"), api_without_worker.client("engineer2")
    for url in ("http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
                "http://localhost:8080/", "http://10.1.2.3/", "http://0.0.0.0/", "gopher://example.com/"):
        refused = alice.post("/api/v1/webhooks", json={"url": url})
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["error"] == "invalid_input" and refused.json()["details"][0]["loc"] == ["body", "url"]
    assert "a loopback address" in alice.post("/api/v1/webhooks", json={"url": "http://127.0.0.1/"}).json()["message"]
    assert alice.get("/api/v1/webhooks").json() == [] and _stored_secrets() == [], "nothing written"

    created = alice.post("/api/v1/webhooks", json={"url": "https://93.184.216.34/hook?key=K3Y9", "events": ["failed"]})
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["url"] == "https://93.184.216.34/…K3Y9" and hook["signed"] and len(hook["secret"]) >= 32
    listed = alice.get("/api/v1/webhooks").json()
    assert [item["id"] for item in listed] == [hook["id"]] and "secret" not in listed[0]
    [stored] = _stored_secrets()
    assert stored and hook["secret"] not in stored, "the secret is stored encrypted"

    assert api_without_worker.client("viewer").post("/api/v1/webhooks", json={"url": "https://8.8.8.8/"}) \
        .status_code == 403
    assert alice.post("/api/v1/webhooks", json={"url": "https://8.8.8.8/", "module": "m"}).status_code == 403
    chat = api_without_worker.client("admin").post("/api/v1/webhooks", json={
        "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd", "kind": "wecom", "module": "payments"})
    assert chat.status_code == 201 and chat.json()["secret"] is None and not chat.json()["signed"]
    assert alice.get("/api/v1/webhooks/deliveries").json() == {"total": 0, "items": [], "limit": 50, "offset": 0}
    assert bob.get("/api/v1/webhooks/deliveries", params={"webhook_id": hook["id"]}).status_code == 403
    assert bob.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 403
    assert alice.delete(f"/api/v1/webhooks/{hook['id']}").json()["id"] == hook["id"]
    assert alice.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404

    monkeypatch.setenv("CASEFLOW_SECRET_KEY", "not-a-fernet-key")
    get_settings.cache_clear()
    misconfigured = alice.post("/api/v1/webhooks", json={"url": "https://8.8.8.8/"})
    assert misconfigured.status_code == 503 and misconfigured.json()["error"] == "secret_key"
    assert "CASEFLOW_SECRET_KEY is not a Fernet key" in misconfigured.json()["message"]
    assert "not-a-fernet-key" not in misconfigured.text


def test_a_delivery_to_a_host_that_now_resolves_internally_is_refused_without_a_request(
        api: Api, receiver: Receiver, users: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Added while the operator allowed it (as a name that resolved publicly then would be): the worker, allowing
    no private address, checks the address it connects to and sends nothing."""
    from core.config import get_settings

    target = receiver.url.replace("127.0.0.1", "localhost")
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", '["localhost"]')
    get_settings.cache_clear()
    service.add_webhook(f"{target}/rebound", user=users["engineer"], events=["need_review"])
    monkeypatch.delenv("WEBHOOK_ALLOWED_HOSTS")
    get_settings.cache_clear()
    with pytest.raises(InvalidInput, match="resolves to 127.0.0.1, a loopback address"):
        service.add_webhook(f"{target}/again", user=users["engineer"])

    alice = api.client("engineer")
    case_id, scene_id = first_case_and_scene()
    started = alice.post(f"{WORKFLOW}/start", json={"test_case_id": case_id, "scene_id": scene_id}).json()
    task_in(alice, started["task_id"], "reviewing")
    [entry] = wait_until(lambda: service.webhook_deliveries(user=users["engineer"])["items"],
                         lambda items: bool(items) and items[0]["status"] == "failed", what="the refused delivery")
    assert entry["attempts"] == 1 and entry["response_status"] is None, "refused at once, not retried"
    assert "resolves to 127.0.0.1" in entry["error"] and "public addresses only" in entry["error"]
    assert receiver.received == []


@SQLITE_ONLY
def test_a_secret_the_key_cannot_open_fails_the_delivery_with_an_operator_message(
        db_url: str, users: dict[str, str], receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import get_settings
    from core.tasks.webhooks import delivery

    monkeypatch.setenv("CASEFLOW_SECRET_KEY", service.new_secret_key())
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    hook = service.add_webhook(f"{receiver.url}/generic", user=users["engineer"])
    with session_scope() as session:
        session.add(WebhookDelivery(webhook_id=hook["id"], event_id=1, task_id=None, event="failed",
                                    status="pending", payload={"event": "failed"}))
    monkeypatch.setenv("CASEFLOW_SECRET_KEY", service.new_secret_key())
    get_settings.cache_clear()
    assert delivery.deliver_due(get_settings()) == 1
    [entry] = service.webhook_deliveries(user=users["engineer"])["items"]
    assert entry["status"] == "pending" and "cannot be decrypted with CASEFLOW_SECRET_KEY" in entry["error"]
    assert receiver.received == [], "nothing is sent unsigned"


def test_the_migration_encrypts_existing_secrets_and_the_downgrade_restores_them(db_url: str,
                                                                               users: dict[str, str]) -> None:
    from sqlalchemy import text

    from core.database import database
    from core.encryption import decrypt
    from tests.integration.test_accounts import alembic

    alembic("downgrade", "0009")
    with database().engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO webhooks (name, kind, url, secret, events, user_id, is_active, cursor_event_id) VALUES "
            "('old', 'generic', 'https://example.com/h', 'plain-secret-0123456789', '[\"failed\"]', "
            "(SELECT id FROM users WHERE username = 'alice'), true, 0), "
            "('chat', 'slack', 'https://hooks.slack.com/x', NULL, '[\"failed\"]', NULL, true, 0)"))
    service.upgrade_database()
    encrypted, unsigned = _stored_secrets()
    assert unsigned is None and "plain-secret" not in encrypted and decrypt(encrypted) == "plain-secret-0123456789"
    assert [hook["signed"] for hook in service.list_webhooks(user=users["admin"])] == [True, False]

    alembic("downgrade", "0009")
    with database().engine.connect() as connection:
        restored = connection.execute(text("SELECT secret FROM webhooks ORDER BY id")).scalars().all()
    assert restored == ["plain-secret-0123456789", None]
    service.upgrade_database()
