"""Firing a transition: the new state entry, its deadline and reminder, its event, its
reassignment and its automated step, recorded on the process for the commit to store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from statemachine.exceptions import TransitionNotAllowed

from machines.definition import ProcessDefinition, Trigger
from machines.model import Actor, FollowUp, Process, StateEntry
from services import events
from services.context import Context
from services.errors import TriggerNotAllowed


def transition(
    definition: ProcessDefinition,
    process: Process,
    trigger: Trigger,
    form_data: dict[str, Any],
    documents: list[str],
    ctx: Context,
    assignment: dict[str, Any] | None = None,
) -> None:
    """Move `process` along `trigger`, recording the new state, its event and its step."""
    source = process.state
    try:
        target = definition.run(source, trigger.name, form_data)
    except TransitionNotAllowed:
        raise not_allowed(definition, trigger.name, source) from None
    moment = ctx.clock()
    previous_assignment = process.current_state.assignment
    new_assignment = dict(assignment if assignment is not None else previous_assignment)
    new_assignment.update(definition.default_assignments.get(target, {}))
    entry = StateEntry(
        state=target,
        permitted_triggers=definition.permitted_triggers(target),
        assignment=new_assignment,
        form_data=form_data,
        documents=list(documents),
        trigger=trigger.name,
        acted_by=ctx.actor,
        created_at=moment,
        updated_at=moment,
        due_at=due(definition, target, moment),
        reminder_at=_reminder(form_data, moment, ctx),
    )
    process.enter(entry)
    process.add_follow_up(
        events.raised(
            ctx,
            definition.state_events.get(target, "ProcessUpdatedEvent"),
            process.id,
            old={"state": source},
            new={
                "state": target,
                "stateData": form_data,
                "stateStartedAt": events.iso(moment),
            },
            at=moment,
        )
    )
    if new_assignment != previous_assignment:
        assigned(process, previous_assignment, new_assignment, ctx, moment)
    queue_automated_step(definition, process, version_after_save=process.version + 1, ctx=ctx)


def not_allowed(definition: ProcessDefinition, trigger: str, state: str) -> TriggerNotAllowed:
    if definition.is_final(state):
        why = " (the process has ended)"
    elif state in definition.automated_step_by_state:
        why = " until its automated step finishes"
    else:
        why = ""
    return TriggerNotAllowed(trigger, state, definition.permitted_triggers(state), why)


def queue_automated_step(
    definition: ProcessDefinition, process: Process, version_after_save: int, ctx: Context
) -> None:
    """Queue the current state's automated step, if it has one, and show it as queued."""
    step = definition.automated_step_by_state.get(process.state)
    if step is None:
        return
    moment = ctx.clock()
    process.current_state.automation = {
        "id": str(uuid.uuid4()),
        "step": step.step,
        "status": "queued",
        "queuedAt": moment,
    }
    process.add_follow_up(step_follow_up(process, version_after_save, ctx.event_actor, ctx))


def step_follow_up(
    process: Process, version_after_save: int, on_behalf_of: Actor | None, ctx: Context
) -> FollowUp:
    """The task that runs the step the current state's `automation` describes.

    The task names the automation it runs (a new id each time the step is queued): a worker
    runs it only while the process still waits for exactly that automation, whatever else
    (edits, documents) changed meanwhile, and a late or repeated delivery does nothing.
    """
    automation = process.current_state.automation or {}
    return FollowUp(
        kind="task",
        name=str(automation["step"]),
        payload={
            "processId": process.id,
            "processName": process.process_name,
            "state": process.state,
            "automationId": automation["id"],
            "version": version_after_save,
            "correlationId": ctx.correlation_id,
            "actor": on_behalf_of,
        },
        created_at=ctx.clock(),
    )


def assigned(
    process: Process, old: dict[str, Any], new: dict[str, Any], ctx: Context, moment: datetime
) -> None:
    """Keep a reassignment in the activity trail and tell subscribers (ProcessAssigned)."""
    process.record("Assigned", ctx.actor, moment, old=old, new=new)
    process.add_follow_up(
        events.raised(
            ctx,
            "ProcessAssigned",
            process.id,
            old={"assignment": old},
            new={"assignment": new, "state": process.state},
            at=moment,
        )
    )


def _reminder(form_data: dict[str, Any], moment: datetime, ctx: Context) -> datetime | None:
    """When to remind about an appointment this form books: a set time before it, if that is
    still ahead. A time without an offset is local to the council (`Schedule.local_timezone`)."""
    config = ctx.schedule
    booked = form_data.get("appointmentDateTime")
    if not isinstance(booked, str):
        return None
    try:
        at = datetime.fromisoformat(booked.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(config.local_timezone))
    remind = at.astimezone(UTC) - timedelta(hours=config.reminder_hours)
    return remind if remind > moment else None


def due(definition: ProcessDefinition, state: str, moment: datetime) -> datetime | None:
    days = definition.time_limits_days.get(state)
    return moment + timedelta(days=days) if days else None
