"""Automated steps: the work a worker does when a process enters a state with one.

A step is a function of the process (as stored when the step runs) and the `Ports` it may
use; it may change records in the services that own them (idempotently: a step can run more
than once) and returns the outcome to fire. It lives in the module of the definition that
runs it, registered with `@step(name)` under the name its `AutomatedStep` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from machines.model import Process
from machines.ports import Ports


@dataclass(frozen=True)
class StepResult:
    """What a step found: the outcome trigger to fire and the data to keep on the new state."""

    outcome: str
    data: dict[str, Any] = field(default_factory=dict)
    add_related_entities: list[dict[str, Any]] = field(default_factory=list)


Step = Callable[[Process, Ports], StepResult]

STEPS: dict[str, Step] = {}


def step(name: str) -> Callable[[Step], Step]:
    """Register a function as the automated step `name`."""

    def register(function: Step) -> Step:
        STEPS[name] = function
        return function

    return register


def registered() -> dict[str, Step]:
    """Every step, by name, once every definition module (where steps live) is loaded: so a
    worker finds a step whatever it imported first."""
    import machines  # here: the definition modules import this one

    machines.registry()
    return STEPS
