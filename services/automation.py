"""Record what an automated step decided: the outcome trigger it fires and what it found.

A step is queued for a (process, state, version). It may be delivered more than once, or
late; `complete_step` does nothing unless the process is still exactly where the step was
queued, so the effect happens once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from machines.definition import ProcessDefinition
from machines.model import Process
from services.processes import Context, Dispatch, Repository, transition, definition_named, hand_on
from storage.errors import StaleProcess


@dataclass(frozen=True)
class StepResult:
    """What a step found: the outcome trigger to fire and the data to keep on the new state."""

    outcome: str
    data: dict[str, Any] = field(default_factory=dict)
    add_related_entities: list[dict[str, Any]] = field(default_factory=list)


class StepNotCurrent(Exception):
    """The process has moved on since the step was queued; the step must do nothing."""


def is_current(process: Process, state: str, version: int) -> bool:
    """Whether `process` is still where a step queued for (state, version) expects it."""
    return process.state == state and process.version == version


def load_for_step(repo: Repository, process_id: str, state: str, version: int) -> Process:
    """The process, if a step queued for (state, version) should still run; else StepNotCurrent."""
    process = repo.get(process_id)
    if not is_current(process, state, version):
        raise StepNotCurrent(f"{process_id} is at {process.state} v{process.version}")
    return process


def complete_step(
    repo: Repository,
    process_id: str,
    state: str,
    version: int,
    result: StepResult,
    ctx: Context,
    dispatch: Dispatch,
) -> Process:
    """Fire the step's outcome on the process, once. Raises StepNotCurrent if it moved on."""
    process = load_for_step(repo, process_id, state, version)
    definition: ProcessDefinition = definition_named(process.process_name)
    step = definition.automated_step_by_state.get(state)
    if step is None or result.outcome not in step.outcomes:
        raise ValueError(f"{result.outcome!r} is not an outcome of the step at {state}.")
    for entity in result.add_related_entities:
        if entity not in process.related_entities:
            process.related_entities.append(entity)
    trigger = definition.trigger_by_name[result.outcome]
    transition(definition, process, trigger, result.data, [], ctx)
    try:
        repo.save(process)
    except StaleProcess:
        # Someone else moved the process between our read and our write: the step is stale.
        raise StepNotCurrent(f"{process_id} changed while its step at {state} ran") from None
    hand_on(repo, process, dispatch)
    return process
