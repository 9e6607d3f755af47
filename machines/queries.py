"""What a listing or a worktray asks the store for, and the order it reads in.

Plain values, no I/O: the use cases build them, storage turns them into queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from machines.model import Process


@dataclass(frozen=True)
class ProcessQuery:
    """Which processes a listing or worktray wants; None means "any"."""

    target_id: str | None = None
    process_name: str | None = None
    state: str | None = None
    patch: str | None = None
    officer_id: str | None = None
    overdue: bool | None = None
    within_patches: frozenset[str] | None = None
    """Only processes on these patches or on none (a caller's patch scope)."""
    sort: str = "createdAt"
    """createdAt or updatedAt: newest first; dueAt: soonest first (cases with a deadline)."""
    automation_status: str | None = None
    """Only processes whose step is `queued` or `failed` (index by_automation_waiting_longest)."""


def sort_value(process: Process, sort: str) -> datetime | None:
    """The value a process is ordered by under `sort`, for continuation tokens."""
    return {
        "createdAt": process.created_at,
        "updatedAt": process.updated_at,
        "dueAt": process.current_state.due_at,
    }[sort]
