"""What a thread's checkpoints show: a history that never forked, and what is kept once the task is finished."""

from __future__ import annotations

import collections
from typing import Any

from core.database import database
from core.workflow.checkpointer import get_saver
from core.workflow.graph import thread_config


def checkpoints_of(thread_id: str) -> list[Any]:
    return list(get_saver(database()).list(thread_config(thread_id)))


def assert_history_linear(thread_id: str) -> None:
    """Every checkpoint of a running thread has at most one child: no two runs wrote from the same one. Check it
    before the task finishes: a finished thread keeps only its last checkpoint."""
    checkpoints = checkpoints_of(thread_id)
    children = collections.Counter(
        c.parent_config["configurable"]["checkpoint_id"] for c in checkpoints if c.parent_config)
    assert len(checkpoints) > 1 and max(children.values()) == 1, "the checkpoint history forked"
