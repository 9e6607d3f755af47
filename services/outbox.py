"""The outbox: follow-ups (steps to run, events to publish) written with the change that
caused them, handed on once stored, marked done, and swept when left behind."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta

from machines.model import FollowUp, Process
from machines.ports import Dispatch, Housekeeping
from services.context import now

log = logging.getLogger(__name__)


def settle(process: Process, dispatch: Dispatch) -> None:
    """Hand on the events earlier changes left in the outbox, so that the next save drops them.

    An event stays in the outbox after it is published, until the process's next change takes
    it out in the same write as the change (a write of its own would double the writes per
    change) or the outbox sweep does. Publishing it again here is harmless, as the stream holds
    each event once, and makes sure that only events the stream has are dropped.
    """
    events = [f for f in process.outbox if f.kind == "event" and f.id not in process.done]
    if not events:
        return
    try:
        done = dispatch(process.id, events)
    except Exception:  # noqa: BLE001 - they stay in the outbox, for the sweep
        log.warning("events of %s stay in the outbox", process.id, exc_info=True)
        return
    process.done.update(done or ())


def hand_on(process: Process, dispatch: Dispatch) -> None:
    """Dispatch the follow-ups just stored.

    Each stays in the outbox until it is known to be done: an event until a later save or the
    outbox sweep finds it published (`settle`), a step until the worker that does it stores
    its outcome. So nothing is lost if dispatch fails here, or if the broker or a worker loses
    the message: the outbox sweep dispatches again whatever is still there after a grace period.
    """
    pending, process.follow_ups = process.follow_ups, []
    if not pending:
        return
    try:
        done = dispatch(process.id, pending)
    except Exception:  # noqa: BLE001 - the outbox keeps them; a sweeper dispatches them later
        log.warning("follow-ups of %s left in the outbox", process.id, exc_info=True)
        return
    process.done.update(done or ())


def step_tasks(process: Process) -> list[FollowUp]:
    """The tasks in the outbox that run the step the current state waits for: the one its
    change queued, and any a sweep queued again."""
    automation_id = (process.current_state.automation or {}).get("id")
    return [
        f
        for f in process.outbox
        if f.kind == "task"
        and f.payload.get("state") == process.state
        and (
            f.payload.get("automationId") == automation_id
            if automation_id is not None
            else f.payload.get("version") == process.version  # queued before automation ids
        )
    ]


def mark_step_done(process: Process) -> None:
    """The step the process waits for is done once its outcome or failure is saved: that save
    takes the step's tasks out of the outbox."""
    process.done.update(f.id for f in step_tasks(process))


def forget(repo: Housekeeping, process_id: str, follow_up_ids: list[str]) -> None:
    """Take follow-ups whose work turned out to have nothing to store (a step found stale)
    out of the outbox. Until then the sweep hands them on again, should a message be lost."""
    repo.remove_follow_ups(process_id, follow_up_ids)


SWEEP_BATCH = 100
"""Outbox removals the sweep sends to the store in one round trip."""


def sweep(repo: Housekeeping, grace: timedelta, dispatch: Dispatch, limit: int = 500) -> int:
    """Hand on again what is still in an outbox `grace` after it was written (steps: or last
    swept), for at most `limit` processes, and drop from the outboxes the events the stream
    has; count the follow-ups swept. Stops at the first failure to dispatch: the broker or the
    stream is likely away.

    Most of what the sweep finds is the events of each process's latest change, published
    when they were stored and left for the next change to drop (`settle`): for those it only
    checks the stream and writes their removal, batched."""
    moment = now()
    swept = 0
    done: dict[str, Collection[str]] = {}
    try:
        for process_id, follow_ups in repo.stale_follow_ups(moment - grace, moment, limit):
            try:
                done[process_id] = dispatch(process_id, follow_ups) or ()
            except Exception:  # noqa: BLE001 - still in the outbox; the next sweep tries again
                log.warning("re-dispatch for %s failed", process_id, exc_info=True)
                break
            swept += len(follow_ups)
            if len(done) >= SWEEP_BATCH:
                repo.forget_follow_ups(done)
                done = {}
    finally:
        repo.forget_follow_ups(done)
    if swept:
        log.info("swept %d follow-ups left in outboxes", swept)
    return swept
