"""Chooses the AI provider from the settings."""

from __future__ import annotations

from core.config import Settings
from core.errors import InvalidInput
from core.generation.latency import DelayedProvider
from core.generation.offline import OfflineProvider
from core.generation.provider import Provider


def provider_from_settings(settings: Settings) -> Provider:
    """The offline provider unless an API key is configured, slowed down if AI_LATENCY_SECONDS says so."""
    provider = _base_provider(settings)
    return DelayedProvider(provider, settings.ai_latency_seconds) if settings.ai_latency_seconds > 0 else provider


def _base_provider(settings: Settings) -> Provider:
    if settings.openai_api_key is None:
        return OfflineProvider()
    raise InvalidInput(
        "OPENAI_API_KEY is set, but this version of CaseFlow only has the offline provider; "
        "unset OPENAI_API_KEY to use it."
    )
