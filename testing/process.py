"""Pointing one process at another database: drop every cached engine, checkpoint saver and setting."""

from __future__ import annotations

from core.config import get_settings
from core.workflow.checkpointer import close_savers
from db.session import reset_databases


def release() -> None:
    """Closes every connection this process holds and forgets the settings."""
    close_savers()
    reset_databases()
    get_settings.cache_clear()
