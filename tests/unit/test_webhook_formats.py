"""Webhook formats and the log redaction, without a database or a network."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

from core.api.server import RedactSecrets
from core.tasks.webhooks import formats
from core.tasks.webhooks.registry import mask_url

NOTICE = formats.notice("failed", 7, "2026-02-05T10:30:00Z", "boom", {
    "id": 3, "thread_id": "workflow_1_abc", "name": "注册", "module_id": "账号", "scene_id": "SC001",
    "test_case_id": 1, "user": "alice", "status": "failed", "error_message": "Step 1 failed", "new_usercase_id": None,
})


def test_receivers_that_answer_200_with_an_error_code_refused_the_delivery() -> None:
    assert formats.refusal("wecom", 200, '{"errcode": 0, "errmsg": "ok"}') is None
    assert formats.refusal("dingtalk", 200, '{"errcode": 310000, "errmsg": "sign not match"}') == \
        "dingtalk refused it: code 310000 sign not match"
    assert formats.refusal("feishu", 200, '{"code": 19021, "msg": "sign match fail"}') == \
        "feishu refused it: code 19021 sign match fail"
    assert formats.refusal("slack", 200, "ok") is None
    assert formats.refusal("generic", 503, "busy").startswith("HTTP 503")


def test_the_generic_body_is_signed_as_sent_and_chat_bodies_carry_the_text() -> None:
    request = formats.request("generic", "http://h/x", NOTICE, "s3cr3t-s3cr3t-s3cr3t", 11, datetime.now(UTC))
    expected = hmac.new(b"s3cr3t-s3cr3t-s3cr3t", request.content, hashlib.sha256).hexdigest()
    assert request.headers[formats.SIGNATURE_HEADER] == f"sha256={expected}"
    assert json.loads(request.content) == NOTICE and b"s3cr3t" not in request.content
    text = formats.payload("slack", NOTICE)["text"]
    assert text.startswith("CaseFlow: task 3") and "Error: Step 1 failed" in text and "workflow_1_abc" in text


def test_urls_and_tokens_are_masked() -> None:
    assert mask_url("https://user:pw@oapi.dingtalk.com:8443/robot/send?access_token=abcdef") == \
        "https://oapi.dingtalk.com:8443/…cdef"
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5", "/api/v1/ws/2?token=cf_SECRET&since=4"), None)
    assert RedactSecrets().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "WebSocket /api/v1/ws/2?token=***&since=4" [accepted]'
