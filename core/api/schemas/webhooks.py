"""Request and response bodies of the webhook endpoints (what the settings page and `python -m core webhook` do)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.api.schemas.common import Key, Name, SecretText, Url
from core.service import WEBHOOK_EVENTS, WEBHOOK_KINDS

Kind = Literal[WEBHOOK_KINDS]  # type: ignore[valid-type]
Event = Literal[WEBHOOK_EVENTS]  # type: ignore[valid-type]


class WebhookRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"url": "https://ci.example.com/caseflow", "events": ["need_review", "failed"], "name": "ci"},
        {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...", "kind": "wecom", "module": "支付"},
    ]})

    url: Url = Field(description="http:// or https:// of a public address")
    kind: Kind = Field(default="generic", description="generic: signed JSON; or a chat group's incoming webhook")
    events: list[Event] | None = Field(default=None, min_length=1, description="Default: all three")
    name: Name | None = None
    secret: SecretText | None = Field(
        default=None, description="Signing secret (generic: default generated and answered once; DingTalk and "
                                  "Feishu: their robot's 加签 secret). Never answered again.")
    owner: Key | None = Field(default=None, description="Report this user's tasks (default: yours; others: admins)")
    module: Key | None = Field(default=None, description="Report every task of this module (admins)")


class Webhook(BaseModel):
    """A webhook as listings show it: its URL masked, never its secret."""

    id: int
    name: str
    kind: Kind
    url: str = Field(examples=["https://qyapi.weixin.qq.com/…3f2a"])
    events: list[Event]
    scope: Literal["user", "module"]
    user: str | None
    module: str | None
    signed: bool
    active: bool
    created_by: str | None
    created_at: datetime


class WebhookCreated(Webhook):
    secret: str | None = Field(default=None, description="The generated signing secret, in this answer only")


class Delivery(BaseModel):
    """One notice to one webhook: its attempts and outcome."""

    id: int
    webhook_id: int
    webhook: str
    event: Event
    event_id: int
    task_id: int | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    response_status: int | None
    error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None


class DeliveryPage(BaseModel):
    total: int
    items: list[Delivery]
    limit: int
    offset: int
