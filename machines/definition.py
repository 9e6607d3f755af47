"""The vocabulary process definitions are written in, and the state machine built from one.

A definition is data: triggers (who may send them, from which states, to which state,
with which form schema), automated steps, time limits and the events that states raise.
`ProcessDefinition.machine` turns it into a python-statemachine `StateMachine`, built once,
which is what decides whether a trigger may fire, which branch a decision trigger takes and
which triggers a state permits; as it is built, the library also checks the graph.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from statemachine import Event, State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

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
    senders: tuple[str, ...] = ()
    """The groups who may send it; empty: those its definition names for all its triggers."""
    branch_examples: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """A decision's example form for each outcome it can choose, by target state."""

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


@dataclass(frozen=True)
class StepSamples:
    """What a definition's automated steps are checked against: a case about `target_id`,
    with `related_entities`, and the records the steps read, in the Tenure and Person APIs'
    shapes (what `Ports` returns). A test walks the definition's examples to each step's
    state and runs the real step function on these."""

    target_id: str
    related_entities: tuple[Mapping[str, Any], ...] = ()
    tenures: tuple[Mapping[str, Any], ...] = ()
    persons: tuple[Mapping[str, Any], ...] = ()


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
    senders: Iterable[str] = (),
) -> Trigger:
    """A client trigger with a single target; `senders` narrows who may send it."""
    return Trigger(
        name,
        _tuple(sources),
        (Branch(target),),
        form,
        example if example is not None else {},
        tuple(requires),
        description or _said(form),
        tuple(senders),
    )


def decide(
    name: str,
    sources: str | Iterable[str],
    outcomes: Mapping[str, FormCheck],
    form: Mapping[str, Any],
    example: Mapping[str, Any],
    *,
    description: str = "",
    senders: Iterable[str] = (),
    examples: Mapping[str, Mapping[str, Any]] | None = None,
) -> Trigger:
    """A client trigger whose target is chosen from the form data: {target: condition}.

    `examples` gives a form that leads to each target (`example` leads to one of them), so
    that every outcome can be shown and walked; `senders` narrows who may send it."""
    branches = tuple(Branch(target, when) for target, when in outcomes.items())
    return Trigger(
        name,
        _tuple(sources),
        branches,
        form,
        example,
        (),
        description or _said(form),
        tuple(senders),
        dict(examples or {}),
    )


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
    step_samples: StepSamples | None = None
    """Records to check its automated steps against (required when it has any)."""
    senders: tuple[str, ...] = ()
    """The groups who may send its client triggers, unless a trigger names its own: declared
    here so that no trigger is open to everyone by omission (configuration may narrow it)."""

    def senders_of(self, trigger: Trigger) -> tuple[str, ...]:
        """Who may send `trigger`, as the definition declares it."""
        return trigger.senders or self.senders

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

    def permitted_triggers(self, state: str, form: Mapping[str, Any] | None = None) -> list[str]:
        """What a client may send in `state`, in declaration order, as the machine answers.

        With `form`, the machine also evaluates the branch conditions: a decision none of whose
        branches the form takes is left out. Without one there is nothing to evaluate them on,
        and the answer, a function of the state alone, is worked out once per state.
        """
        if state not in self._state_set:
            return []
        if form is None:
            permitted = self._permitted.get(state)
            if permitted is None:
                with self._machines.at(state) as machine:
                    permitted = self._client_events(machine.allowed_events)
                self._permitted[state] = permitted
            return list(permitted)
        with self._machines.at(state) as machine:
            return list(self._client_events(machine.enabled_events(form=form)))

    def _client_events(self, events: Iterable[Event]) -> tuple[str, ...]:
        return tuple(event.id for event in events if event.id in self.client_triggers)

    @cached_property
    def _permitted(self) -> dict[str, tuple[str, ...]]:
        return {}

    @cached_property
    def _state_set(self) -> frozenset[str]:
        return frozenset(self.states)

    @cached_property
    def automated_step_by_state(self) -> dict[str, AutomatedStep]:
        return {step.state: step for step in self.automated_steps}

    def is_final(self, state: str) -> bool:
        return state in self.final_states

    @cached_property
    def machine(self) -> type[StateMachine]:
        """The python-statemachine class for this definition, built (and so checked) once."""
        return build_machine(self)

    def run(self, state: str, trigger: str, form: dict[str, Any]) -> str:
        """Fire `trigger` from `state` and return the state it leads to.

        Raises `statemachine.exceptions.TransitionNotAllowed` when the trigger cannot fire.
        A transition the machine makes without a condition goes where its graph says
        (`_unconditional`): sending the event through the library's engine costs a tenth of
        a request's CPU and could only give the same answer. Decisions go through the
        engine, whose conditions choose the branch.
        """
        target = self._unconditional.get((state, trigger))
        if target is not None:
            return target
        with self._machines.at(state) as machine:
            machine.send(trigger, form=form)
            return str(machine.model.state)

    @cached_property
    def _unconditional(self) -> dict[tuple[str, str], str]:
        """(state, trigger) -> target, read from the machine's graph, for every trigger that
        has exactly one transition from the state, with no condition or validator on it."""
        moves: dict[tuple[str, str], list[Any]] = {}
        for state in self.machine.states:
            for transition in state.transitions:
                for event in transition.events:
                    moves.setdefault((state.value, event.id), []).append(transition)
        return {
            key: str(only.target.value)
            for key, (only, *others) in moves.items()
            if not others and not list(only.cond) and not list(only.validators)
        }

    @cached_property
    def _machines(self) -> _Machines:
        return _Machines(self.machine)


class ProcessMachine(StateMachine):
    """Base of every generated process machine: a trigger that is not allowed raises.

    `StateMachine`, not `StateChart`: a StateChart would silently ignore such a trigger.
    """


class _UncheckedMachine(ProcessMachine):
    """A process machine whose class is built without the library's graph checks.

    They stop at the first check that fails; `machines.validate` builds this one to ask the
    same questions (`statemachine.graph`) of every state and report each answer.
    """

    validate_disconnected_states = False
    validate_trap_states = False
    validate_final_reachability = False


class _Cursor:
    """The model a machine moves: only the state name; the process itself is changed elsewhere."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class _Machines:
    """Idle instances of one machine class, each bound to its own cursor, for any thread.

    Building an instance costs a few times what sending it an event does (it resolves every
    callback of every transition), so instances are kept and reused, one caller at a time.
    Each is resumed at the state it is asked about, and none remembers anything else
    between callers: a refused event leaves it as it was. Only an instance that entered a
    final state is let go, since the library then stops it for good; so is one that raised
    something else, whose state nobody has looked into.
    """

    def __init__(self, machine: type[StateMachine]) -> None:
        self._machine = machine
        self._idle: deque[StateMachine] = deque()  # appends and pops are atomic

    @contextmanager
    def at(self, state: str) -> Iterator[StateMachine]:
        """An instance resumed at `state`, for this caller alone until the block ends."""
        try:
            machine = self._idle.pop()
        except IndexError:
            machine = self._machine(model=_Cursor(state))
        machine.model.state = state
        try:
            yield machine
        except TransitionNotAllowed:
            self._release(machine)
            raise
        self._release(machine)

    def _release(self, machine: StateMachine) -> None:
        if not machine.is_terminated:
            self._idle.append(machine)


def build_machine(definition: ProcessDefinition, *, checked: bool = True) -> type[StateMachine]:
    """Declare the definition's states and transitions as a `StateMachine` subclass.

    python-statemachine checks the graph as it builds the class and raises `InvalidDefinition`
    for the first thing wrong; `checked=False` leaves out the checks that can be left out.
    """
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
        # Named as declared: the library would otherwise show StartApplication as
        # "Startapplication" in diagrams and refusals.
        namespace[trigger.name] = Event(transitions, name=trigger.name)
    class_name = "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]", definition.name))
    base = ProcessMachine if checked else _UncheckedMachine
    return type(f"{class_name}Machine", (base,), namespace)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _said(form: Mapping[str, Any]) -> str:
    """What sending a trigger does, in the words its form gives (its title)."""
    return str(form.get("title") or "")


def _tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
