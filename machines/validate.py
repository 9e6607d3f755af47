"""What is wrong with a process definition: on its own, and for the processes already stored.

`problems(definition, steps)` checks a definition by itself. The shape of its graph (every
state reachable, a way out of every state that is not final, a way from each to a final state,
no way out of a final one) is python-statemachine's to judge: it refuses such a class when it
is built. It stops at the first check that fails, though, so each of its checks is asked here
of every state (`statemachine.graph`), and each answer reported under a code of its own; the
class it builds is still the final word (`invalid-machine`). What the library cannot know is
checked here: names the definition uses, forms and examples, automated steps and their
outcomes, time limits, assignments and deadlines, migrations. `stranded(definition, uses)`
checks it against what stored processes are doing (the states they are in, the triggers they
were offered), which is what a change to a definition can break. `check_registry()` refuses
every registered definition that has a problem; the API and the workers call it as they start.

An unknown name is reported with the nearest known one, when one is near (`difflib`).

A definition module may declare `migrations = {from_version: function(old_state) -> new_state}`;
each function maps the states of that version to those of the next one.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from statemachine.exceptions import InvalidDefinition
from statemachine.graph import disconnected_states, states_without_path_to_final_states

import machines
from machines.definition import INITIAL_STATE, ProcessDefinition, build_machine
from machines.describe import trigger_kind

Migration = Callable[[str], str]
NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
"""What state and trigger names look like."""
BAD_NAMES = ("bad-state-name", "bad-trigger-name")
UNKNOWN_KEY = "notAFieldOfThisForm"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition: a stable `code`, what it is about, and why."""

    process_name: str
    code: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.process_name}: [{self.code}] {self.message}"


class InvalidDefinitions(InvalidDefinition):
    """Registered definitions have problems; the message lists every one."""

    def __init__(self, found: list[Problem]) -> None:
        self.problems = found
        lines = "\n".join(f"  {problem}" for problem in found)
        super().__init__(f"{len(found)} problem(s) in the process definitions:\n{lines}")


@dataclass(frozen=True)
class StoredUse:
    """How many stored processes of a type and version are in a state, offered which triggers
    and waiting for which automated step: what the store counts for `stranded`."""

    process_name: str
    definition_version: int
    state: str
    permitted_triggers: tuple[str, ...]
    step: str | None
    count: int


def problems(
    definition: ProcessDefinition,
    steps: Collection[str] | None = None,
    *,
    format_checker: FormatChecker | None = None,
    migrations: Mapping[int, Migration] | None = None,
) -> list[Problem]:
    """Everything wrong with `definition` by itself; `steps` are the automated step names
    that exist (not checked when None)."""
    found = _Found(definition.name)
    _check_names(definition, found)
    if not any(problem.code in BAD_NAMES for problem in found.items):
        _check_graph(definition, found)  # the machine's attributes are made from the names
    _check_forms(definition, found, format_checker or FormatChecker())
    _check_automation(definition, found, steps)
    _check_senders(definition, found)
    _check_step_samples(definition, found)
    if migrations is None:
        migrations = declared_migrations(definition)
    for version, function in migrations.items():
        if not isinstance(version, int) or not 1 <= version < definition.version:
            found.add(
                "bad-migration",
                str(version),
                f"A migration is declared from version "
                f"{version!r}, but only versions 1 to {definition.version - 1} came before "
                f"version {definition.version}.",
            )
        if not callable(function):
            found.add(
                "bad-migration",
                str(version),
                f"The migration from version {version} is not a function.",
            )
    if not found.items:
        try:
            # The class the engine runs, and one instance: the library checks the graph as it
            # builds the class and resolves each guard as it builds an instance.
            definition.machine(model=SimpleNamespace(state=INITIAL_STATE))
        except InvalidDefinition as error:
            found.add(
                "invalid-machine", definition.name, f"python-statemachine refuses it: {error}"
            )
    return found.items


def stranded(
    definition: ProcessDefinition,
    uses: Iterable[StoredUse],
    migrations: Mapping[int, Migration] | None = None,
) -> list[Problem]:
    """What `definition` would strand among stored processes: states it no longer has,
    triggers they were offered that it no longer has or no longer allows there, and automated
    steps they wait for that it no longer runs."""
    if migrations is None:
        migrations = declared_migrations(definition)
    found = _Found(definition.name)
    for use in uses:
        if use.process_name != definition.name:
            continue
        one = use.count == 1
        who = f"{use.count} stored process{'' if one else 'es'} at version "
        who += str(use.definition_version)
        were, wait = ("was", "waits") if one else ("were", "wait")
        fix = _fix(definition, use, migrations)
        if use.definition_version > definition.version:
            found.add(
                "newer-version-stored",
                str(use.definition_version),
                f"{who} started under a newer definition than this one (v{definition.version}).",
            )
        if use.state not in definition.states:
            found.add(
                "stranded-state",
                use.state,
                f"{who} {'is' if one else 'are'} in {use.state}, which the definition "
                f"no longer has.{_near(use.state, definition.states)}{fix}",
            )
            continue
        for trigger in use.permitted_triggers:
            if trigger not in definition.trigger_by_name:
                found.add(
                    "removed-trigger",
                    trigger,
                    f"{who} in {use.state} {were} offered {trigger}, which the definition "
                    f"no longer has.{_near(trigger, definition.client_triggers)}{fix}",
                )
            elif not _sent_from(definition, trigger, use.state):
                found.add(
                    "trigger-no-longer-permitted",
                    trigger,
                    f"{who} in {use.state} {were} offered {trigger}, which can no longer "
                    f"be sent from {use.state}.{fix}",
                )
        step = definition.automated_step_by_state.get(use.state)
        steps = [step.step] if step is not None else []
        if use.step and (step is None or step.step != use.step):
            found.add(
                "removed-step",
                use.step,
                f"{who} in {use.state} {wait} for the automated step {use.step}, which "
                f"the definition no longer runs there.{_near(use.step, steps)}{fix}",
            )
    return found.items


def _sent_from(definition: ProcessDefinition, trigger: str, state: str) -> bool:
    """Whether clients may send `trigger` from `state`, as the definition declares it.

    Read from the declaration, not asked of the machine: a definition being checked may be
    one the library refuses to build.
    """
    declared = definition.client_triggers.get(trigger)
    return declared is not None and state in declared.sources


def declared_migrations(definition: ProcessDefinition) -> dict[int, Migration]:
    """The `migrations` of the module that defines `definition` (none for other definitions)."""
    for module_info in pkgutil.iter_modules(machines.__path__):
        module = importlib.import_module(f"{machines.__name__}.{module_info.name}")
        if getattr(module, "definition", None) is definition:
            return dict(getattr(module, "migrations", None) or {})
    return {}


def migrate_state(
    migrations: Mapping[int, Migration], from_version: int, to_version: int, state: str
) -> str:
    """`state` of version `from_version` as a state of `to_version`; a version with no
    migration keeps its states."""
    for version in range(from_version, to_version):
        function = migrations.get(version)
        if function is not None:
            state = function(state)
    return state


class _Found:
    def __init__(self, process_name: str) -> None:
        self.process_name = process_name
        self.items: list[Problem] = []

    def add(self, code: str, subject: str, message: str) -> None:
        self.items.append(Problem(self.process_name, code, subject, message))


def _fix(
    definition: ProcessDefinition, use: StoredUse, migrations: Mapping[int, Migration]
) -> str:
    if use.definition_version > definition.version:
        return ""
    if use.definition_version == definition.version:
        return (
            f" Changing a definition under running processes needs a new version: make it "
            f"version {definition.version + 1}, with a migration from version "
            f"{definition.version} if states change, then migrate."
        )
    try:
        target = migrate_state(migrations, use.definition_version, definition.version, use.state)
    except Exception as error:  # noqa: BLE001 - a broken migration is reported, not raised
        return f" Its migration fails for {use.state}: {error!r}."
    where = f" maps {use.state} to {target}" if target != use.state else f" keeps {use.state}"
    if target not in definition.states:
        return f" The migration{where}, which the definition does not have either."
    return (
        f" The migration{where}: run `flask --app api migrate {definition.name} "
        f"--from-version {use.definition_version} --apply`."
    )


def check_registry(
    steps: Collection[str] | None = None, *, format_checker: FormatChecker | None = None
) -> None:
    """Raise `InvalidDefinitions`, listing every problem, unless each registered definition
    has none; `steps` are the automated step names that exist (not checked when None)."""
    found = [
        problem
        for definition in machines.registry().values()
        for problem in _problems_once(definition, steps, format_checker)
    ]
    if found:
        raise InvalidDefinitions(found)


_checked: dict[tuple[int, int, frozenset[str] | None], tuple[object, object, list[Problem]]] = {}


def _problems_once(
    definition: ProcessDefinition,
    steps: Collection[str] | None,
    format_checker: FormatChecker | None,
) -> list[Problem]:
    """`problems`, worked out once for each definition, step names and format checker.

    Checking the registry takes about a tenth of a second, and every API instance (each test
    builds one) and every worker process checks it as it starts, while the definitions do
    not change as the code runs. The definition and the checker are kept with the answer, so
    that their ids cannot be taken by other objects.
    """
    names = None if steps is None else frozenset(steps)
    key = (id(definition), id(format_checker), names)
    kept = _checked.get(key)
    if kept is None or kept[0] is not definition or kept[1] is not format_checker:
        found = problems(definition, steps, format_checker=format_checker)
        kept = (definition, format_checker, found)
        _checked[key] = kept
    return kept[2]


def _check_names(definition: ProcessDefinition, found: _Found) -> None:
    states = definition.states
    # Clients send these names and diagrams draw them; the machine makes attributes of them,
    # where "send", "states" or "*" would break it.
    for kind, names in (("state", states), ("trigger", list(definition.trigger_by_name))):
        for name in names:
            if not NAME.fullmatch(name):
                found.add(
                    f"bad-{kind}-name",
                    name,
                    f"{name!r} is not a {kind} name: use PascalCase letters and digits, "
                    f"like {'VisitScheduled' if kind == 'state' else 'ScheduleVisit'}.",
                )
    named = [
        ("first_state", [definition.first_state]),
        ("time_limits_days", list(definition.time_limits_days)),
        ("on_overdue", list(definition.on_overdue)),
        ("default_assignments", list(definition.default_assignments)),
        ("state_events", list(definition.state_events)),
        ("automated_steps", [step.state for step in definition.automated_steps]),
    ]
    for where, names in named:
        for name in names:
            if name not in states:
                found.add(
                    "unknown-state",
                    name,
                    f"{where} names {name}, which no trigger enters or leaves."
                    + _near(name, states),
                )
    names = [trigger.name for trigger in definition.all_triggers]
    for name in sorted({n for n in names if names.count(n) > 1}):
        found.add("duplicate-trigger", name, f"Two triggers are called {name}.")
    # Deadlines, assignments and time limits belong to states a case waits in; a final state
    # is never left, so a time limit there would flag every ended case overdue.
    on_final = [
        ("time-limit-on-final-state", definition.time_limits_days, "a time limit"),
        ("assignment-on-final-state", definition.default_assignments, "a default assignment"),
        ("overdue-on-final-state", definition.on_overdue, "a trigger to fire when overdue"),
    ]
    for code, by_state, what in on_final:
        for state in by_state:
            if definition.is_final(state):
                found.add(
                    code,
                    state,
                    f"{state} is final, so it cannot have {what}: a case there has ended.",
                )


def _check_graph(definition: ProcessDefinition, found: _Found) -> None:
    """Report, state by state, what python-statemachine's definition-time checks refuse."""
    try:
        definition.machine  # noqa: B018 - built with every check: nothing to report state by state
        return
    except InvalidDefinition:
        pass
    try:
        machine = build_machine(definition, checked=False)
    except InvalidDefinition as error:
        # The one graph check that cannot be turned off: transitions out of a final state.
        # The others can only be asked once the class builds, so they wait for this fix.
        leaving = {source for trigger in definition.all_triggers for source in trigger.sources}
        refused = [final for final in definition.final_states if final in leaving]
        for final in refused:
            found.add(
                "final-state-has-exits",
                final,
                f"{final} is final but triggers leave it (python-statemachine: {error}).",
            )
        if not refused:
            found.add(
                "invalid-machine", definition.name, f"python-statemachine refuses it: {error}"
            )
        return
    states = list(machine.states_map.values())
    assert machine.initial_state is not None  # a definition always has ApplicationInitialised
    unreachable = disconnected_states(machine.initial_state, set(states))
    stuck = {s for s in states if not s.final and not s.transitions}
    unfinished = set(states_without_path_to_final_states(states)) - stuck
    names = definition.states
    for state in states:
        name = str(state.value)
        # A misspelt state in a trigger is a new state nothing enters or nothing leaves.
        near = _near(name, [other for other in names if other != name])
        if state in unreachable:
            found.add(
                "unreachable-state",
                name,
                f"{name} cannot be reached from {machine.initial_state.value}.{near}",
            )
        if state in stuck:
            found.add("no-way-out", name, f"{name} is not final and no trigger leaves it.{near}")
        elif state in unfinished:
            found.add(
                "cannot-finish", name, f"No chain of triggers leads from {name} to a final state."
            )


def _check_forms(definition: ProcessDefinition, found: _Found, checker: FormatChecker) -> None:
    forms: list[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]] = [
        (trigger.name, trigger.form, trigger.example)
        for trigger in definition.client_triggers.values()
    ]
    forms.append(("the start form", definition.start_form, definition.start_example))
    for name, schema, example in forms:
        if not schema:
            found.add("missing-schema", name, f"{name} is sent by clients but has no form schema.")
            continue
        schema_error = _schema_error(schema)
        if schema_error is not None:
            found.add(
                "invalid-schema",
                name,
                f"{name}'s form is not a valid JSON Schema: {schema_error}",
            )
            continue
        if example is None:
            found.add("missing-example", name, f"{name} has no example formData.")
            continue
        validator = Draft202012Validator(schema, format_checker=checker)
        failures = [error.message for error in validator.iter_errors(dict(example))]
        if failures:
            found.add(
                "example-fails-schema",
                name,
                f"{name}'s example does not pass its own form: {'; '.join(failures)}",
            )
        elif name != "the start form" and validator.is_valid({**example, UNKNOWN_KEY: 1}):
            found.add(
                "schema-accepts-unknown-keys",
                name,
                f"{name}'s form accepts keys it does not declare; build it with "
                f"machines.forms.form() so that unknown keys are refused.",
            )


_schema_errors: dict[str, str | None] = {}


def _schema_error(schema: Mapping[str, Any]) -> str | None:
    """Why `schema` is not a valid JSON Schema, or None; each distinct schema checked once.

    Checking against the metaschema is most of what validating a definition costs, and the
    shared stages give many triggers the same form. Keyed by `repr`, which tells a tuple
    (refused by the metaschema) from a list.
    """
    key = repr(schema)
    if key not in _schema_errors:
        try:
            Draft202012Validator.check_schema(schema)
            _schema_errors[key] = None
        except SchemaError as error:
            _schema_errors[key] = error.message
    return _schema_errors[key]


def _check_step_samples(definition: ProcessDefinition, found: _Found) -> None:
    """Automated steps come with records to check them against."""
    if definition.automated_steps and definition.step_samples is None:
        found.add(
            "steps-without-samples",
            definition.name,
            "The definition runs automated steps but declares no `step_samples` to check "
            "them against: give it StepSamples(target_id=..., tenures=..., persons=...).",
        )


def _check_senders(definition: ProcessDefinition, found: _Found) -> None:
    """Every client trigger says who may send it: no trigger is open to all by omission."""
    for trigger in definition.client_triggers.values():
        if not definition.senders_of(trigger):
            found.add(
                "undeclared-senders",
                trigger.name,
                f"Nobody is named as allowed to send {trigger.name}: give the definition "
                "`senders=` (e.g. stages.OFFICERS), or the trigger its own.",
            )


def _check_automation(
    definition: ProcessDefinition, found: _Found, steps: Collection[str] | None
) -> None:
    for trigger in definition.triggers:
        if trigger_kind(definition, trigger) == "internal":
            found.add(
                "unfired-trigger",
                trigger.name,
                f"{trigger.name} has no form, so clients cannot send it, and no automated "
                f"step or time limit fires it.",
            )
    triggers = list(definition.trigger_by_name)
    for step in definition.automated_steps:
        if steps is not None and step.step not in steps:
            found.add(
                "missing-step",
                step.step,
                f"The automated step {step.step} (at {step.state}) is not a registered "
                f"step function." + _near(step.step, steps),
            )
        for outcome in step.outcomes:
            fired = definition.trigger_by_name.get(outcome)
            if fired is None or step.state not in fired.sources or fired.client:
                near = _near(outcome, triggers) if fired is None else ""
                found.add(
                    "bad-outcome",
                    outcome,
                    f"The step {step.step} ends with {outcome}, which is not an internal "
                    f"trigger leaving {step.state}." + near,
                )
        for trigger in definition.client_triggers.values():
            if step.state in trigger.sources:
                found.add(
                    "client-trigger-in-automated-state",
                    trigger.name,
                    f"Clients may send {trigger.name} while the automated step {step.step} "
                    f"runs at {step.state}.",
                )
    for state, name in definition.on_overdue.items():
        timeout = definition.trigger_by_name.get(name)
        if state not in definition.time_limits_days:
            found.add(
                "overdue-without-time-limit",
                state,
                f"{state} fires {name} when overdue but has no time limit.",
            )
        if timeout is None or state not in timeout.sources:
            near = _near(name, triggers) if timeout is None else ""
            found.add(
                "bad-overdue-trigger",
                name,
                f"{name}, fired when {state} is overdue, does not leave {state}." + near,
            )


def _near(name: str, known: Iterable[str]) -> str:
    """` Did you mean X?` for the known name nearest to a misspelt `name`, or nothing."""
    # 0.8 rather than difflib's 0.6: a slip of a letter or two, not any name sharing a few.
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.8)
    return f" Did you mean {close[0]}?" if close else ""
