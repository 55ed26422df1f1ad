"""Tells this process's worker that there is work now, instead of at its next poll."""

from __future__ import annotations

import threading
from collections.abc import Callable

_listeners: list[Callable[[], None]] = []
_lock = threading.Lock()


def subscribe(listener: Callable[[], None]) -> None:
    with _lock:
        _listeners.append(listener)


def unsubscribe(listener: Callable[[], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def notify() -> None:
    """Called after a task becomes runnable (started, reviewed, retried)."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener()
