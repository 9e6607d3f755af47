"""Periodic work: flag overdue cases, remind of appointments, requeue stranded steps."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from machines.errors import ProcessNotFound, StaleProcess
from machines.model import Actor, Process
from machines.ports import Dispatch, Housekeeping
from services import events, outbox
from services.commit import commit
from services.context import Context, now
from services.processes import definition_named
from services.transitions import step_follow_up, transition

log = logging.getLogger(__name__)


def requeue_stranded_steps(
    repo: Housekeeping, grace: timedelta, dispatch: Dispatch, limit: int = 500
) -> int:
    """Queue again every automated step that has waited more than `grace` with no task left
    in its process's outbox to run it; count them.

    The outbox keeps a step's task until its outcome is stored, so this finds nothing unless
    something outside the engine's own writes lost it (a restored backup, a hand edit, a step
    queued by an older version whose worker found it stale). Whatever the cause, a case that
    shows its step as queued always has a task on its way.
    """
    moment = now()
    requeued = 0
    for process in repo.waiting_automation(moment - grace, limit):
        if outbox.step_tasks(process):
            continue
        automation = dict(process.current_state.automation or {})
        automation.setdefault("id", str(uuid.uuid4()))  # queued before automation ids
        automation["requeuedAt"] = moment
        process.current_state.automation = automation
        first = _queued_by(process)
        ctx = Context(on_behalf_of=first)
        process.record("AutomationRequeued", None, moment, step=automation.get("step"))
        process.add_follow_up(step_follow_up(process, process.version + 1, first, ctx))
        try:
            commit(repo, process, dispatch)
        except StaleProcess:
            continue  # it changed meanwhile (perhaps its step finished); look again next run
        log.warning("requeued the stranded step of %s at %s", process.id, process.state)
        requeued += 1
    return requeued


def _queued_by(process: Process) -> Actor | None:
    """The officer whose trigger (or retry) queued the current state's step, if any."""
    automation = process.current_state.automation or {}
    return automation.get("retriedBy") or process.current_state.acted_by


def send_reminders(repo: Housekeeping, dispatch: Dispatch, at: datetime | None = None) -> int:
    """Publish AppointmentReminder for appointments coming up, once each."""
    moment = at or now()
    return _flag_each(repo, repo.reminder_ids(moment), _remind, moment, dispatch)


def mark_overdue(repo: Housekeeping, dispatch: Dispatch, at: datetime | None = None) -> int:
    """Flag processes whose current state is past its time limit and publish ProcessOverdue."""
    moment = at or now()
    return _flag_each(repo, repo.overdue_ids(moment), _mark_overdue, moment, dispatch)


Flag = Callable[[Process, datetime, Context], bool]
"""Flags a process as of a moment and adds its event; False when it is not (or no longer) due."""


def _flag_each(
    repo: Housekeeping,
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
        events.raised(
            ctx,
            "AppointmentReminder",
            process.id,
            old=None,
            new={
                "state": entry.state,
                "appointmentDateTime": entry.form_data.get("appointmentDateTime"),
                "targetId": process.target_id,
                "assignment": entry.assignment,
            },
            at=moment,
        )
    )
    return True


def _mark_overdue(process: Process, moment: datetime, ctx: Context) -> bool:
    entry = process.current_state
    if entry.overdue or entry.due_at is None or entry.due_at > moment:
        return False
    entry.overdue = True
    process.add_follow_up(
        events.raised(
            ctx,
            "ProcessOverdue",
            process.id,
            old=None,
            new={"state": entry.state, "dueAt": events.iso(entry.due_at)},
            at=moment,
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
