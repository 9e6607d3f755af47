"""The outbox: follow-ups (steps to run, events to publish) stored with the change that
caused them, handed on once stored, and dropped only once known to be done."""

from __future__ import annotations

import logging

from machines.model import Process
from machines.ports import Dispatch

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
