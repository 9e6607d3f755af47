"""Run automated steps and record what they decided, exactly once per queued step.

A step is queued for a (process, state, version) and may be delivered more than once or
late. It runs only while the process is still exactly there, and its outcome is written
with a version-conditioned update, so a duplicate delivery changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from machines.definition import ProcessDefinition
from machines.model import Process
from services import events
from services.errors import PreconditionFailed, TriggerNotAllowed
from services.ports import Ports, RecordNotFound
from services.processes import (
    Context,
    Dispatch,
    ExpectedVersion,
    Repository,
    commit,
    definition_named,
    get,
    queue_automated_step,
    transition,
    version_matches,
)
from services.steps import STEPS, StepResult
from storage.errors import ProcessNotFound, StaleProcess

log = logging.getLogger(__name__)

PERMANENT_ERRORS: tuple[type[Exception], ...] = (RecordNotFound, ValueError, KeyError, LookupError)
"""Step failures that another attempt cannot fix: recorded on the process at once."""

__all__ = ["StepResult", "complete_step", "record_failure", "retry", "run_step"]


class StepNotCurrent(Exception):
    """The process has moved on since the step was queued; the step must do nothing."""


def load_for_step(repo: Repository, process_id: str, state: str, version: int) -> Process:
    """The process, if a step queued for (state, version) should still run; else StepNotCurrent."""
    process = repo.get(process_id)
    if process.state != state or process.version != version:
        raise StepNotCurrent(f"{process_id} is at {process.state} v{process.version}")
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
    (services or the database unavailable) propagate so that the caller retries.
    """
    try:
        process = load_for_step(repo, payload["processId"], payload["state"], payload["version"])
    except (StepNotCurrent, ProcessNotFound) as stale:
        log.info("step %s skipped: %s", step_name, stale)
        return None
    step = STEPS.get(step_name)
    if step is None:
        reason = f"No automated step is called {step_name!r}."
        return record_failure(repo, payload, reason, ctx, dispatch)
    try:
        result = step(process, ports)
    except PERMANENT_ERRORS as error:
        return record_failure(repo, payload, str(error) or type(error).__name__, ctx, dispatch)
    try:
        return complete_step(repo, process, payload["state"], result, ctx, dispatch)
    except StepNotCurrent as stale:
        log.info("step %s outcome dropped: %s", step_name, stale)
        return None


def complete_step(
    repo: Repository,
    process: Process,
    state: str,
    result: StepResult,
    ctx: Context,
    dispatch: Dispatch,
) -> Process:
    """Fire the step's outcome on `process` (as loaded for the step). Raises StepNotCurrent
    if another change got there first."""
    definition: ProcessDefinition = definition_named(process.process_name)
    step = definition.automated_step_by_state.get(state)
    if step is None or result.outcome not in step.outcomes:
        raise ValueError(f"{result.outcome!r} is not an outcome of the step at {state}.")
    for entity in result.add_related_entities:
        if entity not in process.related_entities:
            process.related_entities.append(entity)
    trigger = definition.trigger_by_name[result.outcome]
    _step_done(process, state)
    transition(definition, process, trigger, result.data, [], ctx)
    try:
        commit(repo, process, dispatch)
    except StaleProcess:
        raise StepNotCurrent(f"{process.id} changed while its step at {state} ran") from None
    return process


def record_failure(
    repo: Repository, payload: dict[str, Any], reason: str, ctx: Context, dispatch: Dispatch
) -> Process | None:
    """Mark the step failed on the process, visibly, and publish AutomationFailed.

    The process keeps its state; `retry` queues the step again.
    """
    try:
        process = load_for_step(repo, payload["processId"], payload["state"], payload["version"])
    except (StepNotCurrent, ProcessNotFound):
        return None
    moment = ctx.clock()
    automation = dict(process.current_state.automation or {})
    automation.update(status="failed", reason=reason, failedAt=moment)
    process.current_state.automation = automation
    process.current_state.updated_at = moment
    process.updated_at = moment
    process.record("AutomationFailed", None, moment, step=automation.get("step"), reason=reason)
    _step_done(process, process.state)
    process.add_follow_up(
        events.event(
            "AutomationFailed",
            process.id,
            old_data={"state": process.state},
            new_data={"state": process.state, "step": automation.get("step"), "reason": reason},
            actor=None,
            correlation_id=ctx.correlation_id,
            now=moment,
        )
    )
    try:
        commit(repo, process, dispatch)
    except StaleProcess:
        return None
    log.warning("step at %s of %s failed: %s", process.state, process.id, reason)
    return process


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


def _step_done(process: Process, state: str) -> None:
    """The step queued for the process as it is (state, version) is done once its outcome or
    failure is saved: that save takes its task out of the outbox."""
    process.done.update(
        f.id
        for f in process.outbox
        if f.kind == "task"
        and f.payload.get("state") == state
        and f.payload.get("version") == process.version
    )
