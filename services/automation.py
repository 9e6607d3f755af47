"""Run automated steps and record what they decided, exactly once per queued step.

A step is queued for an automation of a process's state (`automation.id`) and may be
delivered more than once or late. It runs only while the process still waits for that
automation, and its outcome is written with a version-conditioned update, so a duplicate
delivery changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from machines.definition import ProcessDefinition
from machines.errors import ProcessNotFound, StaleProcess
from machines.model import Process
from machines.ports import Dispatch, Ports, RecordNotFound, Repository
from machines.steps import StepResult, registered
from services import events, outbox
from services.commit import commit
from services.context import Context, ExpectedVersion, version_matches
from services.errors import PreconditionFailed, TriggerNotAllowed
from services.processes import definition_named, get
from services.transitions import queue_automated_step, transition

log = logging.getLogger(__name__)

PERMANENT_ERRORS: tuple[type[Exception], ...] = (RecordNotFound, ValueError, KeyError, LookupError)
"""Step failures that another attempt cannot fix: recorded on the process at once."""

__all__ = ["StepRaced", "StepResult", "complete_step", "record_failure", "retry", "run_step"]


class StepNotCurrent(Exception):
    """The process has moved on since the step was queued; the step must do nothing."""


class StepRaced(Exception):
    """Other changes kept landing while the step ran; it should be tried again later."""


MAX_STEP_ATTEMPTS = 5
"""How often a step is run again when a concurrent change (an edit, a document) lands between
reading the process and storing the step's outcome."""


def is_current(process: Process, payload: dict[str, Any]) -> bool:
    """Whether the process still waits for the step `payload` was queued for.

    A step queued with an automation id runs while the current state waits for that
    automation, whatever edits or documents changed the process meanwhile. (Steps queued
    before automation ids existed name the version they were queued for instead.)
    """
    if process.state != payload["state"]:
        return False
    automation_id = payload.get("automationId")
    if automation_id is None:
        return process.version == payload["version"]
    automation = process.current_state.automation or {}
    return automation.get("id") == automation_id and automation.get("status") == "queued"


def load_for_step(repo: Repository, payload: dict[str, Any]) -> Process:
    """The process, if the step `payload` describes should still run; else StepNotCurrent."""
    process = repo.get(payload["processId"])
    if not is_current(process, payload):
        raise StepNotCurrent(f"{process.id} is at {process.state} v{process.version}")
    return process


def run_step(
    repo: Repository,
    step_name: str,
    payload: dict[str, Any],
    ports: Ports,
    ctx: Context,
    dispatch: Dispatch,
) -> Process | None:
    """Run a queued step and fire its outcome; the process as stored with the outcome (or
    with the step's failure), or None when there was nothing (left) to do.

    Failures another attempt cannot fix are recorded on the process; transient ones
    (services or the database unavailable) propagate so that the caller retries. When the
    process changes while the step runs, the step runs again on what is stored now (steps
    are idempotent), so its outcome never rests on data that was edited meanwhile.
    """
    step = registered().get(step_name)
    for _ in range(MAX_STEP_ATTEMPTS):
        try:
            process = load_for_step(repo, payload)
        except (StepNotCurrent, ProcessNotFound) as stale:
            log.info("step %s skipped: %s", step_name, stale)
            return None
        if step is None:
            reason = f"No automated step is called {step_name!r}."
            return record_failure(repo, payload, reason, ctx, dispatch)
        try:
            result = step(process, ports)
        except PERMANENT_ERRORS as error:
            reason = str(error) or type(error).__name__
            return record_failure(repo, payload, reason, ctx, dispatch)
        try:
            return complete_step(repo, process, payload["state"], result, ctx, dispatch)
        except StaleProcess:
            continue
    raise StepRaced(f"{payload['processId']} kept changing while its step {step_name} ran")


def complete_step(
    repo: Repository,
    process: Process,
    state: str,
    result: StepResult,
    ctx: Context,
    dispatch: Dispatch,
) -> Process:
    """Fire the step's outcome on `process` (as loaded for the step). Raises StaleProcess if
    another change got there first, having written nothing."""
    definition: ProcessDefinition = definition_named(process.process_name)
    step = definition.automated_step_by_state.get(state)
    if step is None or result.outcome not in step.outcomes:
        raise ValueError(f"{result.outcome!r} is not an outcome of the step at {state}.")
    for entity in result.add_related_entities:
        if entity not in process.related_entities:
            process.related_entities.append(entity)
    trigger = definition.trigger_by_name[result.outcome]
    outbox.mark_step_done(process)
    transition(definition, process, trigger, result.data, [], ctx)
    commit(repo, process, dispatch)
    return process


def record_failure(
    repo: Repository, payload: dict[str, Any], reason: str, ctx: Context, dispatch: Dispatch
) -> Process | None:
    """Mark the step failed on the process, visibly, and publish AutomationFailed.

    The process keeps its state; `retry` queues the step again. A concurrent change is no
    reason to lose the failure: it is recorded on the process as it is now.
    """
    for _ in range(MAX_STEP_ATTEMPTS):
        try:
            process = load_for_step(repo, payload)
        except (StepNotCurrent, ProcessNotFound):
            return None
        moment = ctx.clock()
        automation = dict(process.current_state.automation or {})
        automation.update(status="failed", reason=reason, failedAt=moment)
        process.current_state.automation = automation
        process.current_state.updated_at = moment
        process.updated_at = moment
        process.record(
            "AutomationFailed", None, moment, step=automation.get("step"), reason=reason
        )
        outbox.mark_step_done(process)
        process.add_follow_up(
            events.raised(
                ctx,
                "AutomationFailed",
                process.id,
                old={"state": process.state},
                new={
                    "state": process.state,
                    "step": automation.get("step"),
                    "reason": reason,
                },
                at=moment,
            )
        )
        try:
            commit(repo, process, dispatch)
        except StaleProcess:
            continue
        log.warning("step at %s of %s failed: %s", process.state, process.id, reason)
        return process
    raise StepRaced(f"{payload['processId']} kept changing while its step failure was stored")


def retry(
    repo: Repository,
    process_name: str,
    process_id: str,
    ctx: Context,
    dispatch: Dispatch,
    *,
    expected_version: ExpectedVersion = None,
) -> Process:
    """Queue the current state's automated step again (after a recorded failure)."""
    definition = definition_named(process_name)
    process = get(repo, process_name, process_id, ctx)
    if not version_matches(expected_version, process.version):
        raise PreconditionFailed(expected_version, process.version)
    step = definition.automated_step_by_state.get(process.state)
    if step is None:
        raise TriggerNotAllowed(
            "automation/retry",
            process.state,
            definition.permitted_triggers(process.state),
            " (this state has no automated step)",
        )
    previous = process.current_state.automation or {}
    queue_automated_step(definition, process, version_after_save=process.version + 1, ctx=ctx)
    automation = process.current_state.automation or {}
    automation["attempts"] = int(previous.get("attempts", 0))
    automation["retriedBy"] = ctx.actor
    process.record("AutomationRetried", ctx.actor, ctx.clock(), step=step.step)
    commit(repo, process, dispatch)  # StaleProcess propagates: the caller answers 409/412
    return process
