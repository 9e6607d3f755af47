"""Every transition of every process definition, driven over HTTP.

Client triggers go through the API; an automated step's outcome is recorded the way a worker
records it (`complete_step`), and a deadline trigger fires when beat's overdue check runs after
the state's time limit, since neither the worker nor beat is part of these tests.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import Any

import pytest

import machines
from machines.definition import ProcessDefinition
from machines.stages import DOCUMENT_STATES
from services import housekeeping
from services.automation import StepResult, complete_step
from services.context import Context
from tests.support import BASE, body_of, new_id, start

# What a worker records for an outcome, where the walk needs more than the outcome itself.
INCOMING_TENANT = {
    "id": "6b2b4b8e-2a4f-4f0e-9a43-5f1d0c3e7a11",
    "targetType": "person",
    "subType": "householdMember",
    "description": "Sam Jones",
}
STEP_RESULTS = {
    "EligibilityPassed": StepResult("EligibilityPassed", add_related_entities=[INCOMING_TENANT]),
}

Edge = tuple[str, str, str]  # source, trigger, target


def edges(definition: ProcessDefinition) -> list[Edge]:
    return [
        (source, trigger.name, target)
        for trigger in definition.triggers
        for source in trigger.sources
        for target in trigger.targets
    ]


def path_to(definition: ProcessDefinition, state: str) -> list[Edge]:
    """The shortest sequence of transitions from the first state to `state`."""
    routes: dict[str, list[Edge]] = {definition.first_state: []}
    queue = deque([definition.first_state])
    while queue:
        current = queue.popleft()
        for edge in edges(definition):
            source, _, target = edge
            if source == current and target not in routes:
                routes[target] = [*routes[current], edge]
                queue.append(target)
    return routes[state]


def form_for(definition: ProcessDefinition, trigger: str, target: str) -> dict[str, Any]:
    """The form the definition gives for taking `trigger` to `target`: the branch's own
    example where the trigger decides, else the trigger's example."""
    declared = definition.trigger_by_name[trigger]
    return dict(declared.branch_examples.get(target) or declared.example or {})


def take(client, app, definition: ProcessDefinition, process: dict[str, Any], edge: Edge):  # type: ignore[no-untyped-def]
    """Take one transition, as a client or as the worker, and return the process body."""
    source, trigger, target = edge
    if trigger in definition.client_triggers:
        # Entering a documents state brings a document (an external store's id), which
        # ReviewDocuments requires.
        response = client.patch(
            f"{BASE}/{process['processName']}/{process['id']}",
            json={
                "trigger": trigger,
                "formData": form_for(definition, trigger, target),
                "documents": [new_id()] if target in DOCUMENT_STATES else [],
            },
        )
        assert response.status_code == 200, (edge, response.get_json())
        return body_of(response)
    repo = app.extensions["repository"]()
    stored = repo.get(process["id"])
    if trigger in definition.on_overdue.values():
        # A deadline trigger: let the state's time limit pass.
        assert stored.current_state.due_at is not None
        later = stored.current_state.due_at + timedelta(minutes=1)
        assert housekeeping.mark_overdue(repo, lambda *_: None, at=later) == 1
    else:
        outcome = STEP_RESULTS.get(trigger, StepResult(trigger))
        complete_step(repo, stored, stored.state, outcome, Context(), lambda *_: None)
    return body_of(client.get(f"{BASE}/{process['processName']}/{process['id']}"))


ALL_EDGES = [
    pytest.param(name, edge, id=f"{name}:{edge[0]}-{edge[1]}->{edge[2]}")
    for name, definition in sorted(machines.registry().items())
    for edge in edges(definition)
]


@pytest.mark.parametrize(("process_name", "edge"), ALL_EDGES)
def test_transition_reaches_its_target_over_http(client, app, process_name: str, edge: Edge):
    """Each transition of each definition, reached from a new process, lands where declared."""
    definition = machines.get(process_name)
    assert definition is not None
    process = start(client, process_name)
    for step in [*path_to(definition, edge[0]), edge]:
        process = take(client, app, definition, process, step)
        assert process["currentState"]["state"] == step[2], step
    states = [s["state"] for s in process["processStates"]]
    assert states[0] == "ApplicationInitialised"
    assert states[-1] == edge[2]
    assert process["currentState"]["permittedTriggers"] == definition.permitted_triggers(edge[2])
