"""One setting for every property-based test (hypothesis)."""

from __future__ import annotations

from hypothesis import settings

EXAMPLES = settings(deadline=None)
"""No time limit per example: a slow example on a loaded machine is not a failure."""
