"""Periodic work: re-dispatch follow-ups still in an outbox, and flag overdue cases."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta

from machines.model import Process
from services import events
from services.processes import (
    Context,
    Dispatch,
    commit,
    definition_named,
    now,
    transition,
)
from storage import ProcessRepository
from storage.errors import ProcessNotFound, StaleProcess

log = logging.getLogger(__name__)

SWEEP_BATCH = 100
"""Outbox removals the sweep sends to the store in one round trip."""


def sweep_outbox(
    repo: ProcessRepository, grace: timedelta, dispatch: Dispatch, limit: int = 500
) -> int:
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


def send_reminders(repo: ProcessRepository, dispatch: Dispatch, at: datetime | None = None) -> int:
    """Publish AppointmentReminder for appointments coming up, once each."""
    moment = at or now()
    return _flag_each(repo, repo.reminder_ids(moment), _remind, moment, dispatch)


def mark_overdue(repo: ProcessRepository, dispatch: Dispatch, at: datetime | None = None) -> int:
    """Flag processes whose current state is past its time limit and publish ProcessOverdue."""
    moment = at or now()
    return _flag_each(repo, repo.overdue_ids(moment), _mark_overdue, moment, dispatch)


Flag = Callable[[Process, datetime, Context], bool]
"""Flags a process as of a moment and adds its event; False when it is not (or no longer) due."""


def _flag_each(
    repo: ProcessRepository,
    process_ids: Iterable[str],
    flag: Flag,
    moment: datetime,
    dispatch: Dispatch,
) -> int:
    """Read each process again, `flag` it, save it and hand its follow-ups on; count them."""
    ctx = Context()
    flagged = 0
    for process_id in process_ids:
        try:
            process = repo.get(process_id)
        except ProcessNotFound:
            continue
        if not flag(process, moment, ctx):
            continue
        try:
            commit(repo, process, dispatch)  # version-conditioned: a second beat's fails here
        except StaleProcess:
            continue  # it changed meanwhile; the next run looks again
        flagged += 1
    return flagged


def _remind(process: Process, moment: datetime, ctx: Context) -> bool:
    entry = process.current_state
    if entry.reminded or entry.reminder_at is None or entry.reminder_at > moment:
        return False
    entry.reminded = True
    process.add_follow_up(
        events.event(
            "AppointmentReminder",
            process.id,
            old_data=None,
            new_data={
                "state": entry.state,
                "appointmentDateTime": entry.form_data.get("appointmentDateTime"),
                "targetId": process.target_id,
                "assignment": entry.assignment,
            },
            actor=None,
            correlation_id=ctx.correlation_id,
            now=moment,
        )
    )
    return True


def _mark_overdue(process: Process, moment: datetime, ctx: Context) -> bool:
    entry = process.current_state
    if entry.overdue or entry.due_at is None or entry.due_at > moment:
        return False
    entry.overdue = True
    process.add_follow_up(
        events.event(
            "ProcessOverdue",
            process.id,
            old_data=None,
            new_data={"state": entry.state, "dueAt": entry.due_at.isoformat()},
            actor=None,
            correlation_id=ctx.correlation_id,
            now=moment,
        )
    )
    definition = definition_named(process.process_name)
    timeout_trigger = definition.on_overdue.get(entry.state)
    if timeout_trigger is not None:
        days = definition.time_limits_days.get(entry.state)
        reason = f"Closed automatically: no action in {entry.state} for {days} days."
        transition(
            definition,
            process,
            definition.trigger_by_name[timeout_trigger],
            {"reason": reason},
            [],
            ctx,
        )
    return True
