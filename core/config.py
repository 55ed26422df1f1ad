"""Settings, read once from the environment (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    ai_timeout_seconds: float = 60.0
    ai_latency_seconds: float = Field(default=0.0, ge=0, description="simulated latency per AI call (demos, drills)")

    worker_concurrency: int = Field(default=2, ge=1, le=64)
    lease_seconds: int = Field(default=60, ge=1)
    poll_seconds: float = Field(default=2.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, description="automatic runs of a task before it fails")
    retention_days: int = Field(default=30, ge=1)
    cleanup_batch_size: int = Field(default=500, ge=1)
    run_scheduler: bool = Field(default=True, description="start the scheduler inside the Streamlit server")
    max_review_rounds: int = Field(default=3, ge=0, description="rejections that regenerate the rows")
    max_repair_rounds: int = Field(default=5, ge=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing the environment."""
    return Settings()
