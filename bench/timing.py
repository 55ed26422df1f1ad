"""Timing samples and their summary: percentiles in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def sample(call: Callable[[int], Any], count: int, warmup: int = 0, pause: float = 0.0) -> list[float]:
    """Milliseconds each of ``count`` calls of ``call(i)`` took, after ``warmup`` calls that are not kept.

    ``pause`` seconds pass between calls (untimed), to spread the calls over time.
    """
    samples = []
    for index in range(warmup + count):
        began = time.perf_counter()
        call(index)
        if index >= warmup:
            samples.append((time.perf_counter() - began) * 1000)
        time.sleep(pause)
    return samples


def summarise(samples: list[float]) -> dict[str, float]:
    """n, mean, p50, p95, p99 and max of ``samples`` (p-values interpolated between the nearest samples)."""
    if len(samples) < 2:
        only = samples[0] if samples else float("nan")
        return {"n": len(samples), "mean": only, "p50": only, "p95": only, "p99": only, "max": only}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "n": len(samples), "mean": statistics.fmean(samples),
        "p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(samples),
    }
