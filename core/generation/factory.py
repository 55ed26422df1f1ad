"""Chooses the AI provider from the settings."""

from __future__ import annotations

from core import ai_calls
from core.config import Settings
from core.errors import InvalidInput
from core.generation.latency import DelayedProvider
from core.generation.offline import OfflineProvider
from core.generation.provider import Provider


def provider_from_settings(settings: Settings) -> Provider:
    """The configured provider, slowed down if AI_LATENCY_SECONDS says so."""
    provider = _base_provider(settings)
    return DelayedProvider(provider, settings.ai_latency_seconds) if settings.ai_latency_seconds > 0 else provider


def _base_provider(settings: Settings) -> Provider:
    """AI_PROVIDER=auto (the default): the OpenAI-compatible provider when OPENAI_API_KEY is set, else offline.

    AI_PROVIDER=openai without a key is for keyless local endpoints (vLLM, Ollama) and needs OPENAI_BASE_URL.
    """
    has_key = settings.openai_api_key is not None and bool(settings.openai_api_key.get_secret_value())
    if settings.ai_provider == "offline" or (settings.ai_provider == "auto" and not has_key):
        return OfflineProvider()
    if not has_key and not settings.openai_base_url:
        raise InvalidInput(
            "AI_PROVIDER=openai needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local endpoint without keys."
        )
    from core.generation.openai_provider import OpenAIProvider  # imports the openai client: only when used

    return OpenAIProvider(settings, record=ai_calls.record)
