"""The version-conditioned commit of a change: apply it to the process as stored, save it
with its follow-ups in one write, hand them on, and re-apply it when a concurrent change won."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from machines.errors import StaleProcess
from machines.model import Process
from machines.ports import Dispatch, Repository
from services.context import ExpectedVersion, version_matches
from services.errors import Conflict, PreconditionFailed
from services.outbox import hand_on, settle

MAX_ATTEMPTS = 12
"""How often a change without If-Match is re-applied when a concurrent change wins."""

MB = 1024 * 1024

EDIT_BUDGET = 8 * MB
"""The size (BSON) past which a case takes no more growth from edits and documents."""

TRIGGER_BUDGET = 10 * MB
"""The size past which a case takes no more triggers: more than edits may grow it to, so a
case that reached its edit budget can still be moved on and closed. (The engine's own changes,
a step's outcome or a deadline, are small and never refused; MongoDB's limit is 16 MB.)"""


def commit(
    repo: Repository,
    process: Process,
    dispatch: Dispatch,
    save: Callable[[Process], None] | None = None,
    *,
    budget: int | None = None,
) -> None:
    """Save the change made to `process` (with `repo.save`, or `save` where a change is written
    differently) and hand its follow-ups on. Raises `StaleProcess` (having written nothing)
    when the stored process moved on since it was read, and `ProcessTooLarge` (likewise) when
    the change would take it past `budget` bytes."""
    settle(process, dispatch)  # before measuring: what it finds done leaves with this save
    if budget is not None:
        repo.check_size(process, budget)
    (save or repo.save)(process)
    hand_on(process, dispatch)


def apply_change(
    repo: Repository,
    load: Callable[[], Process],
    change: Callable[[Process], None],
    dispatch: Dispatch,
    expected_version: ExpectedVersion,
    budget: int | None = None,
) -> Process:
    """Apply `change` to the process `load` reads (the caller's access checked), and save it
    atomically, re-reading on conflict.

    With an expected version (If-Match) a conflict is a PreconditionFailed; without, the
    change is applied again to the fresh process, so no concurrent update is lost. A change
    that would take the process past `budget` bytes is refused (`ProcessTooLarge`).
    """
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            # Spread out writers that keep colliding on the same process.
            time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
        process = load()
        if not version_matches(expected_version, process.version):
            raise PreconditionFailed(expected_version, process.version)
        change(process)
        if not process.has_unsaved_changes:
            return process  # nothing changed: no write, no event
        try:
            commit(repo, process, dispatch, budget=budget)
        except StaleProcess:
            if expected_version is not None:
                stored = repo.get(process.id).version
                raise PreconditionFailed(expected_version, stored) from None
            continue
        return process
    raise Conflict("The process kept changing while this request was applied; try again.")
