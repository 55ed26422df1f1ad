"""Settings, read once from the environment (and an optional .env file)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ModelPrice(BaseModel):
    """What a model costs, in US dollars per 1,000 tokens."""

    prompt_per_1k: float = Field(ge=0)
    completion_per_1k: float = Field(ge=0)


DEFAULT_AI_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(prompt_per_1k=0.00015, completion_per_1k=0.0006),
    "gpt-4o": ModelPrice(prompt_per_1k=0.0025, completion_per_1k=0.01),
    "gpt-4.1": ModelPrice(prompt_per_1k=0.002, completion_per_1k=0.008),
    "gpt-4.1-mini": ModelPrice(prompt_per_1k=0.0004, completion_per_1k=0.0016),
    "gpt-4.1-nano": ModelPrice(prompt_per_1k=0.0001, completion_per_1k=0.0004),
    "deepseek-chat": ModelPrice(prompt_per_1k=0.00028, completion_per_1k=0.00042),
    "qwen-plus": ModelPrice(prompt_per_1k=0.0004, completion_per_1k=0.0012),
}
"""List prices when this was written; a model name also matches its dated variants ("gpt-4o-2024-08-06")."""


class Settings(BaseSettings):
    """Every knob of CaseFlow; names are the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'data' / 'caseflow.db'}",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg2://user@host/db",
    )
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    ai_provider: Literal["auto", "offline", "openai"] = Field(
        default="auto", description="auto: the OpenAI-compatible provider when OPENAI_API_KEY is set, else offline"
    )
    ai_timeout_seconds: float = Field(default=60.0, gt=0, description="per request to the AI provider")
    ai_max_attempts: int = Field(default=3, ge=1, le=10, description="requests per AI call before the task fails")
    ai_backoff_seconds: float = Field(default=1.0, ge=0, description="first retry delay; doubles, with jitter")
    ai_backoff_max_seconds: float = Field(default=30.0, ge=0, description="longest retry delay, Retry-After included")
    ai_response_format: Literal["auto", "json_schema", "json_object"] = Field(
        default="auto", description="auto: structured outputs, json_object if the endpoint refuses them"
    )
    ai_temperature: float | None = Field(default=None, ge=0, le=2, description="unset: the endpoint's default")
    ai_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_AI_PRICES),
        description='JSON {model: {"prompt_per_1k": x, "completion_per_1k": y}} in USD; replaces the defaults',
    )
    ai_latency_seconds: float = Field(default=0.0, ge=0, description="simulated latency per AI call (demos, drills)")

    worker_concurrency: int = Field(default=2, ge=1, le=64)
    lease_seconds: int = Field(default=60, ge=1)
    poll_seconds: float = Field(default=2.0, gt=0)
    max_attempts: int = Field(
        default=3, ge=1, description="lost runs in a row (the worker died or stopped answering) before a task fails",
    )
    retry_budget_seconds: float = Field(
        default=900, ge=0, description="how long a task keeps retrying transient faults before it fails",
    )
    retry_base_seconds: float = Field(default=5, ge=0, description="first wait before a retry; doubles each time")
    retry_max_seconds: float = Field(default=300, ge=0, description="longest wait between two retries")
    retention_days: int = Field(default=30, ge=1)
    cleanup_batch_size: int = Field(default=5_000, ge=1)
    run_scheduler: bool = Field(default=True, description="start the scheduler inside the Streamlit server")
    max_review_rounds: int = Field(default=3, ge=0, description="rejections that regenerate the rows")
    max_repair_rounds: int = Field(default=5, ge=0)

    review_remind_hours: float = Field(
        default=24, ge=0, description="a task waiting for review this long gets a reminder, again each as long; 0: off",
    )
    review_claim_minutes: float = Field(
        default=3, gt=0, le=120, description="who is reviewing a task shows this long after their page last refreshed",
    )
    review_expire_days: float = Field(
        default=14, ge=0, description="a task waiting for review this long is cancelled; 0: never",
    )
    session_hours: float = Field(default=168, gt=0, le=24 * 366, description="a dashboard sign-in lasts this long")
    session_idle_hours: float = Field(
        default=24, gt=0, description="a dashboard session unused this long ends sooner",
    )
    session_secret: SecretStr | None = Field(
        default=None, description="signs session cookies; unset: a random key kept in the database",
    )
    session_cookie_secure: bool | None = Field(
        default=None, description="send the session cookie over HTTPS only; unset: when the request came over HTTPS",
    )
    sso_provider: str | None = Field(
        default=None, description="single sign-on: the provider's name under [auth.NAME] in .streamlit/secrets.toml",
    )
    sso_username_claim: str = Field(default="preferred_username", description="the ID token claim naming the user")
    sso_roles_claim: str = Field(default="groups", description="the ID token claim listing the user's groups or roles")
    sso_role_map: dict[str, Literal["admin", "engineer", "viewer"]] = Field(
        default_factory=dict, description='JSON {"group or role": "admin|engineer|viewer"}; the highest role wins',
    )
    sso_default_role: Literal["admin", "engineer", "viewer", "none"] = Field(
        default="viewer", description="role of a new single sign-on user no mapped group names; none: refused",
    )
    sso_allow_passwords: bool = Field(
        default=False, description="with single sign-on, CaseFlow passwords still sign in too",
    )
    review_wait_seconds: float = Field(
        default=10.0, ge=0, le=120, description="how long the HTTP review call waits for step 10 before answering 202"
    )
    api_cors_origins: list[str] = Field(
        default_factory=list, description='JSON list of origins a browser front end calls the HTTP API from'
    )
    api_ws_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="how often WebSockets read task_events")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="per webhook request")
    webhook_max_attempts: int = Field(default=6, ge=1, le=20, description="requests per delivery before it fails")
    webhook_backoff_seconds: float = Field(default=5.0, ge=0, description="first retry delay of a delivery; doubles")
    webhook_backoff_max_seconds: float = Field(default=600.0, ge=0, description="longest retry delay of a delivery")
    webhook_allow_private: bool = Field(
        default=False, description="let webhooks go to loopback, private, link-local and other non-public addresses",
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list, description='JSON list of host names and networks webhooks may reach although they are '
                                          'not public, e.g. ["hooks.corp.example", "10.20.0.0/16"]',
    )
    caseflow_secret_key: SecretStr | None = Field(
        default=None, description="Fernet key(s) encrypting webhook secrets at rest; comma-separated to rotate (the "
                                  "first encrypts). Unset: CaseFlow keeps its own in CASEFLOW_SECRET_KEY_FILE",
    )
    caseflow_secret_key_file: Path | None = Field(
        default=None, description="where CaseFlow keeps its own key (default caseflow-secret.key beside the SQLite "
                                  "database, else data/ of the project), created with mode 0600",
    )
    priority_aging_seconds: float = Field(
        default=600, gt=0, description="a pending task gains one priority level per this many seconds of waiting",
    )
    max_running_per_user: int = Field(default=0, ge=0, description="running tasks per user at most; 0: no cap")
    max_running_per_module: int = Field(default=0, ge=0, description="running tasks per module at most; 0: no cap")
    pg_notify: bool = Field(default=True, description="PostgreSQL: wake idle workers with LISTEN/NOTIFY")
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535,
        description="Prometheus metrics port of worker processes (default 9464; 0: off); "
                    "the dashboard's embedded worker serves them only when this is set",
    )
    task_executor: Literal["apscheduler", "celery"] = Field(
        default="apscheduler", description="apscheduler: workers poll the database; celery: messages over Redis",
    )
    redis_url: str | None = Field(default=None, description="the Celery broker, e.g. redis://127.0.0.1:6379/0")
    celery_visibility_timeout: int = Field(
        default=7200, ge=1, description="seconds before Redis redelivers an unacknowledged message; above the "
                                         "longest step",
    )
    celery_resend_seconds: float = Field(
        default=30, gt=0, description="a pending task nobody took for this long gets its message again",
    )

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _hosts_or_networks(cls, entries: list[str]) -> list[str]:
        """A host name, an address or a network; "10.0.0.0/33" is a mistake, not a host name."""
        for entry in entries:
            if not entry.strip() or (any(char in entry for char in "/:") and not _is_network(entry)):
                raise ValueError(f"{entry!r} is neither a host name nor a network such as 10.20.0.0/16")
        return [entry.strip() for entry in entries]


def _is_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return False
    return True


def overridden(settings: Settings, **values: Any) -> Settings:
    """``settings`` with ``values`` changed, checked by the same bounds as the environment's (ValidationError)."""
    return Settings.model_validate({**settings.model_dump(), **values})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing the environment."""
    return Settings()
