"""Chooses the AI provider from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from core.config import Settings
from core.errors import InvalidInput
from core.generation.latency import DelayedProvider
from core.generation.offline.provider import OfflineProvider
from core.generation.provider import Provider

if TYPE_CHECKING:
    from core.generation.openai_compatible.chat import Recorder


def provider_from_settings(settings: Settings, record: Recorder | None = None) -> Provider:
    """The configured provider, slowed down if AI_LATENCY_SECONDS says so.

    ``record`` receives each model call (the task runner stores them); the offline provider makes none.
    """
    provider = _base_provider(settings, record)
    return DelayedProvider(provider, settings.ai_latency_seconds) if settings.ai_latency_seconds > 0 else provider


def _base_provider(settings: Settings, record: Recorder | None) -> Provider:
    """AI_PROVIDER=auto (the default): the OpenAI-compatible provider when OPENAI_API_KEY is set, else offline.

    AI_PROVIDER=openai without a key is for keyless local endpoints (vLLM, Ollama) and needs OPENAI_BASE_URL.
    """
    if provider_choice(settings) == "offline":
        return OfflineProvider()
    if not _has_key(settings) and not settings.openai_base_url:
        raise InvalidInput(
            "AI_PROVIDER=openai needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local endpoint without keys."
        )
    from core.generation.openai_compatible.provider import OpenAIProvider  # imports the openai client: only when used

    return OpenAIProvider(settings, record=record)


def provider_choice(settings: Settings) -> Literal["offline", "openai"]:
    """Which provider the settings pick: AI_PROVIDER, or with "auto" whether OPENAI_API_KEY is set."""
    if settings.ai_provider == "offline" or (settings.ai_provider == "auto" and not _has_key(settings)):
        return "offline"
    return "openai"


def _has_key(settings: Settings) -> bool:
    return settings.openai_api_key is not None and bool(settings.openai_api_key.get_secret_value())
