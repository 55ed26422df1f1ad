"""A provider wrapper that adds latency to every call, as a slow model would.

Set AI_LATENCY_SECONDS to make the offline provider behave like a real AI for demos,
and for failure drills that must stop a worker in the middle of a step.
"""

from __future__ import annotations

import time
from typing import Any

from core.generation.provider import Provider


class DelayedProvider:
    """Delegates to ``inner`` after sleeping ``seconds`` on each AI step."""

    def __init__(self, inner: Provider, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self.name = inner.name
        self.model = inner.model

    def __getattr__(self, method: str) -> Any:
        call = getattr(self.inner, method)

        def delayed(*args: Any, **kwargs: Any) -> Any:
            time.sleep(self.seconds)
            return call(*args, **kwargs)

        return delayed
