"""What a webhook receives: CaseFlow's generic JSON notice signed with HMAC-SHA256, or a chat message.

Generic: the notice as JSON, with ``X-CaseFlow-Signature: sha256=<hex>``, the HMAC-SHA256
of the exact body bytes under the webhook's secret. Chat webhooks get a text message in
their incoming-webhook format: WeCom (企业微信), DingTalk (钉钉), Feishu (飞书) and Slack.
DingTalk and Feishu robots with "signature" security get their documented signature
(a timestamp and HMAC-SHA256 of "timestamp\\nsecret"). A secret is only ever used to sign:
it is in no body, and the stored payload is the body before any signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from core.tasks import events

KINDS = ("generic", "wecom", "dingtalk", "feishu", "slack")
SIGNING = {"generic": "required", "dingtalk": "optional", "feishu": "optional"}
"""Kinds whose deliveries are signed; a generic webhook always has a secret."""
EVENTS = {
    "need_review": events.WORKFLOW_NEED_REVIEW,
    "failed": events.WORKFLOW_FAILED,
    "completed": events.WORKFLOW_COMPLETED,
    "review_reminder": events.REVIEW_REMINDER,
}
"""A webhook's event names, and the task events they stand for."""
EVENT_OF_TYPE = {type_: name for name, type_ in EVENTS.items()}
SIGNATURE_HEADER = "X-CaseFlow-Signature"
HEADLINES = {"need_review": "needs review", "failed": "failed", "completed": "completed",
             "review_reminder": "still waits for review"}


@dataclass(frozen=True)
class Request:
    url: str
    headers: dict[str, str]
    content: bytes


def notice(event: str, event_id: int, occurred_at: str | None, message: str, task: dict[str, Any]) -> dict[str, Any]:
    """The generic notice: {event, event_id, occurred_at, message, task{...}}."""
    return {"event": event, "event_id": event_id, "occurred_at": occurred_at, "message": message, "task": task}


def payload(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """The body a webhook of ``kind`` receives for a notice."""
    if kind == "generic":
        return item
    text = _text(item)
    if kind in ("wecom", "dingtalk"):  # the same text message format in both
        return {"msgtype": "text", "text": {"content": text}}
    if kind == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    if kind == "slack":
        return {"text": text}
    raise ValueError(f"unknown webhook kind {kind!r}")


def request(kind: str, url: str, body: dict[str, Any], secret: str | None, delivery_id: int,
            now: datetime) -> Request:
    """The HTTP request of one attempt: the URL, headers and body bytes, signed as ``kind`` signs."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "CaseFlow-Webhooks/1"}
    if kind == "generic":
        content = _dumps(body)
        headers.update({
            "X-CaseFlow-Event": str(body.get("event", "")),
            "X-CaseFlow-Delivery": str(delivery_id),
        })
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, content)
        return Request(url, headers, content)
    if kind == "dingtalk" and secret:
        timestamp = str(int(now.timestamp() * 1000))
        digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        query = urlencode({"timestamp": timestamp, "sign": base64.b64encode(digest).decode()})
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    if kind == "feishu" and secret:
        timestamp = str(int(now.timestamp()))
        digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
        body = {"timestamp": timestamp, "sign": base64.b64encode(digest).decode(), **body}
    return Request(url, headers, _dumps(body))


def signature(secret: str, content: bytes) -> str:
    """The generic signature header's value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()


def refusal(kind: str, status_code: int, text: str) -> str | None:
    """Why a receiver refused a delivery, or None when it took it.

    WeCom, DingTalk and Feishu answer 200 with an error code in the body for a bad key,
    signature or message, so their bodies are read too.
    """
    if not 200 <= status_code < 300:
        return f"HTTP {status_code}: {text[:200]}"
    if kind not in ("wecom", "dingtalk", "feishu"):
        return None
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, None):
        return None
    reason = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    return f"{kind} refused it: code {code} {reason}".strip()


def _text(item: dict[str, Any]) -> str:
    task = item["task"]
    lines = [
        f"CaseFlow: task {task['id']} \u201c{task['name']}\u201d {HEADLINES.get(item['event'], item['event'])}",
        f"Thread: {task['thread_id']}",
        f"Owner: {task['user']}  Module: {task['module_id'] or '-'}",
        f"Status: {task['status']}",
    ]
    if item["event"] == "failed" and task.get("error_message"):
        lines.append(f"Error: {task['error_message']}")
    if item["event"] == "completed" and task.get("new_usercase_id"):
        lines.append(f"Automation case: {task['new_usercase_id']}")
    if item["event"] in ("need_review", "review_reminder"):
        lines.append(item["message"])
    return "\n".join(lines)


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
