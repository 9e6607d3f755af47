"""Process definitions and the state machines built from them, without any I/O."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from statemachine import StateMachine
from statemachine.exceptions import TransitionNotAllowed

import machines
from machines import changeofname, soletojoint, stages
from machines.definition import INITIAL_STATE, START_TRIGGER, ProcessDefinition
from services.errors import InvalidInput
from services.forms import validate_form

DEFINITIONS = sorted(machines.registry().items())
DEFINITION_IDS = [name for name, _ in DEFINITIONS]

MANUAL_ALL_CLEAR: dict[str, Any] = {
    "br11": True,
    "br12": False,
    "br13": False,
    "br15": False,
    "br16": False,
    "br7": False,
    "br8": False,
    "br9": False,
}


def reachable(definition: ProcessDefinition) -> set[str]:
    """Every state some chain of triggers leads to from the initial state."""
    seen = {INITIAL_STATE}
    queue = deque([INITIAL_STATE])
    while queue:
        state = queue.popleft()
        for trigger in definition.all_triggers:
            if state in trigger.sources:
                for target in trigger.targets:
                    if target not in seen:
                        seen.add(target)
                        queue.append(target)
    return seen


def internal_triggers(definition: ProcessDefinition) -> list[str]:
    return [t.name for t in definition.triggers if not t.client]


@pytest.fixture
def stj() -> ProcessDefinition:
    definition = machines.get("soletojoint")
    assert definition is not None
    return definition


@pytest.fixture
def con() -> ProcessDefinition:
    definition = machines.get("changeofname")
    assert definition is not None
    return definition


def test_registry_finds_both_reference_processes():
    """The registry discovers soletojoint and changeofname with their target types."""
    registry = machines.registry()
    assert registry["soletojoint"].target_type == "tenure"
    assert registry["changeofname"].target_type == "person"
    assert machines.get("soletojoint") is soletojoint.definition
    assert machines.get("changeofname") is changeofname.definition


def test_registry_unknown_name_returns_none():
    """Looking up a process type that does not exist gives None, not an error."""
    assert machines.get("nosuchprocess") is None


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=DEFINITION_IDS)
def test_definition_every_state_is_reachable(name: str, definition: ProcessDefinition):
    """No state of a definition is orphaned: each can be reached from the initial state."""
    assert reachable(definition) == set(definition.states), name


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=DEFINITION_IDS)
def test_machine_is_strict_state_machine(name: str, definition: ProcessDefinition):
    """The generated class is a StateMachine that neither ignores events nor swallows errors."""
    machine = definition.machine
    assert issubclass(machine, StateMachine), name
    assert machine.allow_event_without_transition is False
    assert machine.catch_errors_as_events is False


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=DEFINITION_IDS)
def test_machine_disallowed_trigger_raises(name: str, definition: ProcessDefinition):
    """A trigger fired from a state it does not leave raises TransitionNotAllowed."""
    trigger = next(iter(definition.client_triggers.values()))
    with pytest.raises(TransitionNotAllowed):
        definition.run(INITIAL_STATE, trigger.name, dict(trigger.example or {}))


def test_machine_start_enters_first_state(stj: ProcessDefinition, con: ProcessDefinition):
    """The start trigger moves a new process to its definition's first state."""
    assert stj.run(INITIAL_STATE, START_TRIGGER, {}) == "SelectTenants"
    assert con.run(INITIAL_STATE, START_TRIGGER, {}) == "EnterNewName"


def test_machine_trigger_from_final_state_raises(stj: ProcessDefinition):
    """Nothing can be fired once a process has been closed."""
    with pytest.raises(TransitionNotAllowed):
        stj.run(stages.CLOSED, "CancelProcess", {"comment": "again"})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "ManualChecksPassed"),
        ({key: "false" for key in MANUAL_ALL_CLEAR} | {"br11": "true"}, "ManualChecksPassed"),
        ({"br11": "True"}, "ManualChecksPassed"),
        ({"br11": False}, "ManualChecksFailed"),
        ({"br11": "false"}, "ManualChecksFailed"),
        *[
            ({key: value}, "ManualChecksFailed")
            for key in ("br12", "br13", "br15", "br16", "br7", "br8", "br9")
            for value in (True, "true")
        ],
    ],
)
def test_manual_checks_branch_follows_answers(
    stj: ProcessDefinition, changes: dict[str, Any], expected: str
):
    """Manual checks pass only when br11 is yes and every disqualifying answer is no."""
    form = {**MANUAL_ALL_CLEAR, **changes}
    assert stj.run("AutomatedChecksPassed", "CheckManualEligibility", form) == expected


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"br5": False, "br17": False, "br18": False}, "BreachChecksPassed"),
        (
            {"br5": "false", "br10": "false", "br17": "false", "br18": "false"},
            "BreachChecksPassed",
        ),
        ({"br5": True, "br10": True, "br17": False, "br18": False}, "BreachChecksPassed"),
        ({"br5": "true", "br10": "true", "br17": "false", "br18": "false"}, "BreachChecksPassed"),
        ({"br5": True, "br17": False, "br18": False}, "BreachChecksFailed"),
        ({"br5": True, "br10": False, "br17": False, "br18": False}, "BreachChecksFailed"),
        ({"br5": False, "br10": True, "br17": False, "br18": False}, "BreachChecksFailed"),
        ({"br5": "false", "br10": "true", "br17": "false", "br18": "false"}, "BreachChecksFailed"),
        ({"br5": False, "br10": False, "br17": True, "br18": False}, "BreachChecksFailed"),
        ({"br5": False, "br10": False, "br17": False, "br18": "true"}, "BreachChecksFailed"),
    ],
)
def test_breach_checks_branch_follows_answers(
    stj: ProcessDefinition, form: dict[str, Any], expected: str
):
    """Breach checks pass iff br5 equals br10 (default no) and br17 and br18 are no."""
    assert stj.run("ManualChecksPassed", "CheckTenancyBreach", form) == expected


@pytest.mark.parametrize("name", ["soletojoint", "changeofname"])
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("approve", "TenureInvestigationPassed"),
        ("decline", "TenureInvestigationFailed"),
        ("appointment", "TenureInvestigationPassedWithInt"),
    ],
)
def test_tenure_investigation_branch_follows_recommendation(name: str, answer: str, expected: str):
    """The investigator's recommendation chooses the investigation outcome in both processes."""
    definition = machines.get(name)
    assert definition is not None
    form = {"tenureInvestigationRecommendation": answer}
    assert definition.run("ApplicationSubmitted", "TenureInvestigation", form) == expected


@pytest.mark.parametrize("source", ["TenureInvestigationPassed", "InterviewScheduled"])
@pytest.mark.parametrize(
    ("answer", "expected"), [("approve", "HOApprovalPassed"), ("decline", "HOApprovalFailed")]
)
def test_ho_approval_branch_follows_recommendation(
    stj: ProcessDefinition, source: str, answer: str, expected: str
):
    """The housing officer's recommendation chooses approval or decline."""
    form = {"hoRecommendation": answer, "housingAreaManagerName": "Jo Bloggs"}
    assert stj.run(source, "HOApproval", form) == expected


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=DEFINITION_IDS)
def test_internal_triggers_never_permitted(name: str, definition: ProcessDefinition):
    """Outcome triggers fired by automated steps are never offered to clients."""
    internal = internal_triggers(definition)
    assert internal, name
    for state in definition.states:
        assert not set(internal) & set(definition.permitted_triggers(state)), state
    assert not set(internal) & set(definition.client_triggers)
    assert START_TRIGGER not in definition.client_triggers


def test_internal_triggers_are_the_automated_outcomes(stj: ProcessDefinition):
    """Sole to joint's internal triggers are exactly its steps' and deadlines' outcomes."""
    outcomes = {o for step in stj.automated_steps for o in step.outcomes}
    assert set(internal_triggers(stj)) == outcomes | set(stj.on_overdue.values())
    assert {"EligibilityPassed", "EligibilityFailed", "TenureUpdateSucceeded"} <= outcomes


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=DEFINITION_IDS)
def test_final_states_permit_nothing(name: str, definition: ProcessDefinition):
    """A closed, cancelled or completed process offers no triggers."""
    assert definition.final_states
    for state in definition.final_states:
        assert definition.permitted_triggers(state) == [], state


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=DEFINITION_IDS)
def test_automated_states_permit_nothing_from_clients(name: str, definition: ProcessDefinition):
    """While a worker runs an automated step, clients can fire nothing."""
    for step in definition.automated_steps:
        assert definition.permitted_triggers(step.state) == [], step.state


CLIENT_TRIGGERS = [
    pytest.param(definition, trigger, id=f"{name}.{trigger.name}")
    for name, definition in DEFINITIONS
    for trigger in definition.client_triggers.values()
]


@pytest.mark.parametrize(("definition", "trigger"), CLIENT_TRIGGERS)
def test_trigger_example_passes_its_schema(definition: ProcessDefinition, trigger):
    """The example each client trigger publishes is accepted by its own form schema."""
    assert trigger.form is not None
    validate_form(trigger.form, dict(trigger.example or {}), trigger.name)


@pytest.mark.parametrize(("definition", "trigger"), CLIENT_TRIGGERS)
def test_trigger_schema_rejects_unknown_keys(definition: ProcessDefinition, trigger):
    """Every client trigger's schema refuses a key it does not declare."""
    assert trigger.form is not None
    with pytest.raises(InvalidInput) as caught:
        validate_form(trigger.form, {**(trigger.example or {}), "notAField": 1}, trigger.name)
    assert [e.field for e in caught.value.errors] == ["formData.notAField"]


def test_change_of_name_schema_rejects_invalid_title(con: ProcessDefinition):
    """A title outside the list is refused when the name is entered."""
    trigger = con.client_triggers["EnterNewName"]
    assert trigger.form is not None
    with pytest.raises(InvalidInput) as caught:
        validate_form(trigger.form, {**(trigger.example or {}), "title": "Sir"}, trigger.name)
    assert [e.field for e in caught.value.errors] == ["formData.title"]


def test_breach_schema_br10_is_optional(stj: ProcessDefinition):
    """The breach form accepts answers without br10 but not without br5."""
    trigger = stj.client_triggers["CheckTenancyBreach"]
    assert trigger.form is not None
    validate_form(trigger.form, {"br5": "false", "br17": "false", "br18": "false"}, "t")
    with pytest.raises(InvalidInput) as caught:
        validate_form(trigger.form, {"br10": "false", "br17": "false", "br18": "false"}, "t")
    assert [e.field for e in caught.value.errors] == ["formData.br5"]


def test_manual_checks_schema_rejects_non_boolean(stj: ProcessDefinition):
    """A manual check answer that is neither a boolean nor "true"/"false" is refused."""
    trigger = stj.client_triggers["CheckManualEligibility"]
    assert trigger.form is not None
    with pytest.raises(InvalidInput) as caught:
        validate_form(trigger.form, {**MANUAL_ALL_CLEAR, "br7": "maybe"}, "t")
    assert [e.field for e in caught.value.errors] == ["formData.br7"]


@pytest.mark.parametrize(
    ("module", "name"), [(soletojoint, "soletojoint"), (changeofname, "changeofname")]
)
def test_cancel_and_close_sources_match_module_constants(module, name: str):
    """CancelProcess and CloseProcess leave exactly the states each module lists."""
    definition = machines.get(name)
    assert definition is not None
    cancel = definition.client_triggers["CancelProcess"]
    close = definition.client_triggers["CloseProcess"]
    assert set(cancel.sources) == set(module.CANCELLABLE)
    assert set(close.sources) == set(module.CLOSABLE)
    assert cancel.targets == (stages.CANCELLED,)
    assert close.targets == (stages.CLOSED,)
    for state in module.CANCELLABLE:
        assert "CancelProcess" in definition.permitted_triggers(state), state
    for state in module.CLOSABLE:
        assert "CloseProcess" in definition.permitted_triggers(state), state


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=DEFINITION_IDS)
def test_permitted_triggers_are_the_client_triggers_leaving_in_declaration_order(
    name: str, definition: ProcessDefinition
):
    """A state offers exactly the client triggers declared to leave it, in declaration order."""
    for state in definition.states:
        declared = [t.name for t in definition.client_triggers.values() if state in t.sources]
        assert definition.permitted_triggers(state) == declared, state
