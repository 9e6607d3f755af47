"""Every automated step of every definition runs, as the worker would run it, on a case that
the definition's own examples bring to the step's state and on the sample records it
declares: a step that reads a field its trigger's form lacks, or a record field the samples
do not have, fails here rather than in a worker."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.database import Database

import machines
from machines.definition import ProcessDefinition
from machines.ports import Ports
from machines.stages import DOCUMENT_STATES
from machines.steps import registered
from services.automation import complete_step
from services.context import Context
from storage.local_services import LocalPersons, LocalTenures
from tests.api.test_workflows import Edge, form_for, path_to
from tests.support import BASE, body_of, new_id, start

STEPS = [
    pytest.param(definition, step.state, id=f"{name}:{step.step}")
    for name, definition in sorted(machines.registry().items())
    for step in definition.automated_steps
]


def sample_ports(db: Database, definition: ProcessDefinition) -> Ports:
    """The Tenure and Person records the definition declares, in the local store."""
    samples = definition.step_samples
    assert samples is not None, f"{definition.name} declares no step_samples"
    for collection, records in (("tenures", samples.tenures), ("persons", samples.persons)):
        for record in records:
            document = {("_id" if key == "id" else key): value for key, value in record.items()}
            db[collection].replace_one({"_id": document["_id"]}, document, upsert=True)
    return Ports(tenures=LocalTenures(db), persons=LocalPersons(db))


def walk(client, app, definition: ProcessDefinition, ports: Ports, edges: list[Edge]) -> Any:  # type: ignore[no-untyped-def]
    """Take `edges` from a new case about the samples' target: client triggers with the
    definition's examples, automated outcomes by running the real step."""
    samples = definition.step_samples
    assert samples is not None
    process = start(
        client,
        definition.name,
        targetId=samples.target_id,
        relatedEntities=[dict(entity) for entity in samples.related_entities],
    )
    repo = app.extensions["repository"]()
    for source, trigger, target in edges:
        if trigger in definition.client_triggers:
            response = client.patch(
                f"{BASE}/{definition.name}/{process['id']}",
                json={
                    "trigger": trigger,
                    "formData": form_for(definition, trigger, target),
                    # Entering a documents state brings one (an evidence store's id), which
                    # ReviewDocuments requires.
                    "documents": [new_id()] if target in DOCUMENT_STATES else [],
                },
            )
            assert response.status_code == 200, ((source, trigger), response.get_json())
        else:
            run_step_here(repo, definition, process["id"], ports)
        process = body_of(client.get(f"{BASE}/{definition.name}/{process['id']}"))
    return repo.get(process["id"])


def run_step_here(repo, definition: ProcessDefinition, process_id: str, ports: Ports) -> str:  # type: ignore[no-untyped-def]
    """Run the step of the process's state with the real step function; store its outcome."""
    stored = repo.get(process_id)
    automated = definition.automated_step_by_state[stored.state]
    result = registered()[automated.step](stored, ports)
    assert result.outcome in automated.outcomes, result
    complete_step(repo, stored, stored.state, result, Context(), lambda *_: [])
    return result.outcome


@pytest.mark.parametrize(("definition", "state"), STEPS)
def test_each_step_runs_on_the_case_its_definition_describes(
    client, app, db: Database, definition: ProcessDefinition, state: str
):
    """Walked to the step's state with the definition's examples, the case is handed to the
    step function, which returns one of the step's outcomes; storing it moves the case on."""
    ports = sample_ports(db, definition)
    process = walk(client, app, definition, ports, path_to(definition, state))
    assert process.state == state
    outcome = run_step_here(app.extensions["repository"](), definition, process.id, ports)
    moved = app.extensions["repository"]().get(process.id)
    assert moved.current_state.trigger == outcome
