"""The vocabulary process definitions are written in, and the state machine built from one.

A definition is data: triggers (who may send them, from which states, to which state,
with which form schema), automated steps, time limits and the events that states raise.
`ProcessDefinition.machine` turns it into a python-statemachine `StateMachine`, which is
what decides whether a trigger may fire and which branch a decision trigger takes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from statemachine import State, StateMachine

from machines.model import Process

INITIAL_STATE = "ApplicationInitialised"
START_TRIGGER = "StartApplication"

FormCheck = Callable[..., bool]
"""A branch condition; python-statemachine passes it the `form` it asks for by name."""
ProcessCheck = Callable[[Process, dict[str, Any]], bool]


@dataclass(frozen=True)
class Branch:
    """One possible target of a trigger, taken when `when` holds for the form data."""

    target: str
    when: FormCheck | None = None


@dataclass(frozen=True)
class Requirement:
    """A condition on the stored process a trigger needs, with the message shown when unmet."""

    check: ProcessCheck
    message: str
    field: str = "relatedEntities"
    """The part of the process the condition is about, named in the error."""


@dataclass(frozen=True)
class Trigger:
    """A named event: its sources, its branches and, for client triggers, its form schema."""

    name: str
    sources: tuple[str, ...]
    branches: tuple[Branch, ...]
    form: Mapping[str, Any] | None = None
    example: Mapping[str, Any] | None = None
    requires: tuple[Requirement, ...] = ()
    description: str = ""

    @property
    def client(self) -> bool:
        """Clients may send only triggers that declare a form schema."""
        return self.form is not None

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(branch.target for branch in self.branches)

    @property
    def decides(self) -> bool:
        """Whether the form's answers choose between outcomes (its answers are then final)."""
        return len(self.branches) > 1


@dataclass(frozen=True)
class AutomatedStep:
    """Work a worker does when a process enters `state`; it ends by firing one of `outcomes`."""

    state: str
    step: str
    outcomes: tuple[str, ...]
    description: str = ""


def otherwise() -> bool:
    """The fallback branch of a decision: taken when no earlier branch applies."""
    return True


def move(
    name: str,
    sources: str | Iterable[str],
    target: str,
    form: Mapping[str, Any],
    example: Mapping[str, Any] | None = None,
    *,
    requires: Iterable[Requirement] = (),
    description: str = "",
) -> Trigger:
    """A client trigger with a single target."""
    return Trigger(
        name,
        _tuple(sources),
        (Branch(target),),
        form,
        example if example is not None else {},
        tuple(requires),
        description,
    )


def decide(
    name: str,
    sources: str | Iterable[str],
    outcomes: Mapping[str, FormCheck],
    form: Mapping[str, Any],
    example: Mapping[str, Any],
    *,
    description: str = "",
) -> Trigger:
    """A client trigger whose target is chosen from the form data: {target: condition}."""
    branches = tuple(Branch(target, when) for target, when in outcomes.items())
    return Trigger(name, _tuple(sources), branches, form, example, (), description)


def outcome(
    name: str, sources: str | Iterable[str], target: str, description: str = ""
) -> Trigger:
    """An internal trigger, fired by an automated step or a deadline; never sent by clients."""
    return Trigger(name, _tuple(sources), (Branch(target),), None, None, (), description)


@dataclass(frozen=True)
class ProcessDefinition:
    """A process type: everything the engine needs to run, check and describe it."""

    name: str
    title: str
    target_type: str
    version: int
    first_state: str
    triggers: tuple[Trigger, ...]
    final_states: tuple[str, ...]
    start_form: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    start_example: Mapping[str, Any] = field(default_factory=dict)
    automated_steps: tuple[AutomatedStep, ...] = ()
    time_limits_days: Mapping[str, int] = field(default_factory=dict)
    default_assignments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Assignment fields a state sets on entry (e.g. approval goes to a team), by state."""
    on_overdue: Mapping[str, str] = field(default_factory=dict)
    """Internal trigger to fire when a state outlives its time limit, by state."""
    state_events: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    @cached_property
    def start(self) -> Trigger:
        """The trigger a new process fires when it is created."""
        return Trigger(START_TRIGGER, (INITIAL_STATE,), (Branch(self.first_state),))

    @cached_property
    def all_triggers(self) -> tuple[Trigger, ...]:
        return (self.start, *self.triggers)

    @cached_property
    def states(self) -> tuple[str, ...]:
        """Every state, in the order the definition first names it."""
        seen: dict[str, None] = {INITIAL_STATE: None}
        for trigger in self.all_triggers:
            for name in (*trigger.sources, *trigger.targets):
                seen.setdefault(name)
        for name in self.final_states:
            seen.setdefault(name)
        return tuple(seen)

    @cached_property
    def trigger_by_name(self) -> dict[str, Trigger]:
        return {trigger.name: trigger for trigger in self.all_triggers}

    @cached_property
    def client_triggers(self) -> dict[str, Trigger]:
        return {t.name: t for t in self.triggers if t.client}

    @cached_property
    def _permitted(self) -> dict[str, tuple[str, ...]]:
        permitted: dict[str, list[str]] = {state: [] for state in self.states}
        for trigger in self.client_triggers.values():
            for source in trigger.sources:
                permitted[source].append(trigger.name)
        return {state: tuple(names) for state, names in permitted.items()}

    def permitted_triggers(self, state: str) -> list[str]:
        """What a client may send in `state`, in declaration order."""
        return list(self._permitted.get(state, ()))

    @cached_property
    def automated_step_by_state(self) -> dict[str, AutomatedStep]:
        return {step.state: step for step in self.automated_steps}

    def is_final(self, state: str) -> bool:
        return state in self.final_states

    @cached_property
    def machine(self) -> type[StateMachine]:
        """The python-statemachine class for this definition, built once."""
        return build_machine(self)

    def run(self, state: str, trigger: str, form: dict[str, Any]) -> str:
        """Fire `trigger` from `state` and return the state it leads to.

        Raises `statemachine.exceptions.TransitionNotAllowed` when the trigger cannot fire.
        """
        runner = getattr(self._runners, "runner", None)
        if runner is None:
            # One machine per thread, built on first use: building one costs more than
            # sending it an event, and the machine reads its state from the cursor each time.
            cursor = _Cursor(INITIAL_STATE)
            runner = (self.machine(model=cursor, state_field="state"), cursor)
            self._runners.runner = runner
        machine, cursor = runner
        cursor.state = state
        try:
            machine.send(trigger, form=form)
        except BaseException:
            del self._runners.runner  # not reused after a refusal or a failing guard
            raise
        if cursor.state in self.final_states:
            # A machine that reached a final state has terminated: it would refuse every
            # later event, whatever state the cursor is set to.
            del self._runners.runner
        return cursor.state

    @cached_property
    def _runners(self) -> threading.local:
        return threading.local()


class ProcessMachine(StateMachine):
    """Base of every generated process machine: a trigger that is not allowed raises.

    `StateMachine`, not `StateChart`: a StateChart would silently ignore such a trigger.
    """


@dataclass
class _Cursor:
    """The model a machine moves: only the state name; the process itself is changed elsewhere."""

    state: str


def build_machine(definition: ProcessDefinition) -> type[StateMachine]:
    """Declare the definition's states and transitions as a `StateMachine` subclass."""
    # State attributes use snake_case ids so that a trigger may share a state's name
    # (change of name has both a state and a trigger called EnterNewName).
    states = {
        name: State(
            name,
            value=name,
            initial=name == INITIAL_STATE,
            final=name in definition.final_states,
        )
        for name in definition.states
    }
    namespace: dict[str, Any] = {f"state_{_snake(name)}": state for name, state in states.items()}
    for trigger in definition.all_triggers:
        transitions = None
        for source in trigger.sources:
            for branch in trigger.branches:
                options = {"cond": branch.when} if branch.when else {}
                transition = states[source].to(states[branch.target], **options)
                transitions = transition if transitions is None else transitions | transition
        namespace[trigger.name] = transitions
    class_name = "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]", definition.name))
    return type(f"{class_name}Machine", (ProcessMachine,), namespace)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
