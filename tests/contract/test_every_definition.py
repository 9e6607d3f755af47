"""Contracts every registered process definition keeps, with no test code for any one process.

A new module in machines/ is checked here by existing: its states are reachable and can
finish, its forms are closed and come with examples, its automated steps exist, and every
way it can end is walked over the HTTP API with the walker of tests/api/test_workflows.py.
A decision branch is reached with the first form that picks it: the decision's own example
for that branch, its example, or the example with one enumerated answer changed.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

import pytest
from statemachine.exceptions import TransitionNotAllowed

import machines
from machines import validate
from machines.definition import ProcessDefinition, Trigger
from machines.steps import registered
from services.errors import InvalidInput
from services.forms import format_checker, validate_form
from tests.api.test_workflows import Edge, edges, form_for, path_to, take
from tests.machines.test_definitions import reachable
from tests.support import body_of, start

REGISTRY = sorted(machines.registry().items())
DEFINITIONS = [pytest.param(definition, id=name) for name, definition in REGISTRY]
CLIENT_TRIGGERS = [
    pytest.param(definition, trigger, id=f"{name}.{trigger.name}")
    for name, definition in REGISTRY
    for trigger in definition.client_triggers.values()
]
BRANCHES = [
    pytest.param(definition, edge, id=f"{name}:{edge[0]}-{edge[1]}->{edge[2]}")
    for name, definition in REGISTRY
    for edge in edges(definition)
    if edge[1] in definition.client_triggers
]
ENDINGS = [
    pytest.param(definition, edge, id=f"{name}:{edge[0]}-{edge[1]}->{edge[2]}")
    for name, definition in REGISTRY
    for edge in edges(definition)
    if definition.is_final(edge[2])
]
UNKNOWN_KEY = "notAFieldOfThisForm"


def can_finish_from(definition: ProcessDefinition, state: str) -> bool:
    """Whether some chain of triggers leads from `state` to a final state."""
    seen, queue = {state}, deque([state])
    while queue:
        current = queue.popleft()
        if definition.is_final(current):
            return True
        for trigger in definition.all_triggers:
            if current in trigger.sources:
                for target in trigger.targets:
                    if target not in seen:
                        seen.add(target)
                        queue.append(target)
    return False


def branch_form(definition: ProcessDefinition, edge: Edge) -> dict[str, Any] | None:
    """A valid form with which the client trigger of `edge` leads from its source to its target."""
    source, name, target = edge
    trigger = definition.trigger_by_name[name]
    example = dict(trigger.example or {})
    candidates = [form_for(definition, name, target), example]
    for key, schema in (trigger.form or {}).get("properties", {}).items():
        candidates += [{**example, key: value} for value in schema.get("enum", [])]
    for form in candidates:
        try:
            validate_form(trigger.form or {}, form, name)
            if definition.run(source, name, form) == target:
                return form
        except (InvalidInput, TransitionNotAllowed):
            continue
    return None


def with_example(
    definition: ProcessDefinition, name: str, form: dict[str, Any]
) -> ProcessDefinition:
    """`definition` as the walker sees it, with `form` as trigger `name`'s example.

    The walker sends a trigger's example unless the trigger gives one for the branch;
    giving it the branch's form this way reuses it unchanged. The API still runs the
    registered definition.
    """
    triggers = tuple(
        dataclasses.replace(t, example=form) if t.name == name else t for t in definition.triggers
    )
    return dataclasses.replace(definition, triggers=triggers)


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_every_state_is_reachable_from_the_start(definition: ProcessDefinition):
    """No state is orphaned: a chain of triggers leads to each from ApplicationInitialised."""
    assert reachable(definition) == set(definition.states)


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_every_state_that_is_not_final_has_a_way_to_finish(definition: ProcessDefinition):
    """A trigger leaves every state that is not final, and some chain of them ends the case."""
    for state in definition.states:
        if definition.is_final(state):
            continue
        assert any(state in t.sources for t in definition.all_triggers), f"{state} is a dead end"
        assert can_finish_from(definition, state), f"no way to finish from {state}"


@pytest.mark.parametrize(("definition", "trigger"), CLIENT_TRIGGERS)
def test_client_trigger_has_a_closed_schema_and_an_example_it_accepts(
    definition: ProcessDefinition, trigger: Trigger
):
    """Each client trigger publishes an object schema refusing unknown keys, and an example
    that passes it."""
    assert trigger.form, f"{trigger.name} has no form schema"
    assert trigger.form.get("type") == "object"
    assert trigger.form.get("additionalProperties") is False
    assert trigger.example is not None, f"{trigger.name} has no example"
    validate_form(trigger.form, dict(trigger.example), trigger.name)


@pytest.mark.parametrize(("definition", "trigger"), CLIENT_TRIGGERS)
def test_client_trigger_refuses_a_mutated_example(definition: ProcessDefinition, trigger: Trigger):
    """The example with an unknown key added fails, naming that key; so does the example
    without its first required key."""
    assert trigger.form is not None
    example = dict(trigger.example or {})
    with pytest.raises(InvalidInput) as caught:
        validate_form(trigger.form, {**example, UNKNOWN_KEY: "x"}, trigger.name)
    assert [e.field for e in caught.value.errors] == [f"formData.{UNKNOWN_KEY}"]
    required = trigger.form.get("required", [])
    if required:
        without = {k: v for k, v in example.items() if k != required[0]}
        with pytest.raises(InvalidInput) as caught:
            validate_form(trigger.form, without, trigger.name)
        assert f"formData.{required[0]}" in [e.field for e in caught.value.errors]


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_every_automated_step_resolves(definition: ProcessDefinition):
    """Each automated step names a registered step function, and ends with internal triggers
    that leave its state."""
    for step in definition.automated_steps:
        assert callable(registered().get(step.step)), f"no step function {step.step!r}"
        for outcome in step.outcomes:
            trigger = definition.trigger_by_name[outcome]
            assert not trigger.client
            assert step.state in trigger.sources


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_definition_validates_without_problems(definition: ProcessDefinition):
    """`flask --app api definition validate` finds nothing wrong with the definition."""
    assert validate.problems(definition, registered(), format_checker=format_checker) == []


@pytest.mark.parametrize(("definition", "edge"), BRANCHES)
def test_every_client_transition_has_a_valid_form_leading_there(
    definition: ProcessDefinition, edge: Edge
):
    """For each branch of each client trigger there is a valid form that takes it."""
    assert branch_form(definition, edge) is not None, (
        f"No form found that takes {edge[1]} from {edge[0]} to {edge[2]}: add one to "
        "to the decision's `examples={target: form}`, or let an enumerated answer decide."
    )


@pytest.mark.parametrize(("definition", "edge"), ENDINGS)
def test_every_way_to_finish_can_be_walked_over_http(client, app, definition, edge: Edge):
    """From a new process, the shortest path to each transition into a final state is taken
    over the API; the process then offers nothing and refuses client triggers."""
    process = start(client, definition.name, targetType=definition.target_type)
    for step in [*path_to(definition, edge[0]), edge]:
        walked = definition
        if step[1] in definition.client_triggers:
            form = branch_form(definition, step)
            assert form is not None, step
            walked = with_example(definition, step[1], form)
        process = take(client, app, walked, process, step)
        assert process["currentState"]["state"] == step[2], step
    assert process["currentState"]["permittedTriggers"] == []
    trigger = next(iter(definition.client_triggers.values()))
    response = client.patch(
        f"/api/v1/process/{definition.name}/{process['id']}",
        json={"trigger": trigger.name, "formData": dict(trigger.example or {}), "documents": []},
    )
    assert response.status_code == 409, response.get_json()
    final = body_of(client.get(f"/api/v1/process/{definition.name}/{process['id']}"))
    assert final["currentState"]["state"] == edge[2]
