"""What the trigger that entered a state recorded can be edited only as strictly as that
trigger may be sent, and not at all when it decided the outcome or the system recorded it.

Checked for every decision, every automated outcome and every restricted trigger of every
registered definition, by walking a new case there over the API.
"""

from __future__ import annotations

from typing import Any

import pytest

import machines
from machines.definition import ProcessDefinition
from services.authorisation import ANY, Policy
from settings import from_env
from tests.api.test_workflows import Edge, edges, path_to, take
from tests.conftest import signed_in
from tests.contract.test_every_definition import branch_form, with_example
from tests.support import BASE, body_of, start

REGISTRY = sorted(machines.registry().items())
POLICY = Policy.from_file(from_env().auth_policy_file)


def _edges(keep: Any) -> list[Any]:
    return [
        pytest.param(definition, edge, id=f"{name}:{edge[0]}-{edge[1]}->{edge[2]}")
        for name, definition in REGISTRY
        for edge in edges(definition)
        if not definition.is_final(edge[2]) and keep(definition.trigger_by_name[edge[1]])
    ]


DECISIONS = _edges(lambda trigger: trigger.client and trigger.decides)
RECORDED_BY_THE_SYSTEM = _edges(lambda trigger: not trigger.client)


def outsiders(definition: ProcessDefinition, trigger_name: str) -> set[str]:
    """Groups that may send the definition's triggers in general but not this one."""
    every = set(definition.senders) - {ANY}
    return every - set(POLICY.senders(definition, trigger_name))


RESTRICTED = [
    pytest.param(definition, edge, id=f"{name}:{edge[0]}-{edge[1]}->{edge[2]}")
    for name, definition in REGISTRY
    for edge in edges(definition)
    if not definition.is_final(edge[2])
    and definition.trigger_by_name[edge[1]].client
    and outsiders(definition, edge[1])
]


def walk_to(client, app, definition: ProcessDefinition, edge: Edge) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A new case of `definition`, taken over the API along the shortest path through `edge`."""
    process = start(client, definition.name, targetType=definition.target_type)
    for step in [*path_to(definition, edge[0]), edge]:
        walked = definition
        if step[1] in definition.client_triggers:
            form = branch_form(definition, step)
            assert form is not None, step
            walked = with_example(definition, step[1], form)
        process = take(client, app, walked, process, step)
    assert process["currentState"]["state"] == edge[2]
    return process


def url(process: dict[str, Any]) -> str:
    return f"{BASE}/{process['processName']}/{process['id']}"


def edit(client, process: dict[str, Any], form: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.patch(url(process), json={"processData": {"formData": form}})


def changed(value: Any) -> Any:
    """A value other than `value`."""
    if isinstance(value, bool):
        return not value
    return "changed" if value != "changed" else "changed again"


@pytest.mark.parametrize(("definition", "edge"), DECISIONS)
def test_answers_that_decided_an_outcome_cannot_be_edited(client, app, definition, edge: Edge):
    """Each answer of a decision, changed afterwards by someone who may send the trigger,
    is refused with 409 naming it, and the case is left as it was."""
    process = walk_to(client, app, definition, edge)
    answers = process["currentState"]["processData"]["formData"]
    assert answers, edge
    for key, value in answers.items():
        response = edit(client, process, {key: changed(value)})
        assert response.status_code == 409, (key, response.get_json())
        problem = response.get_json()
        assert problem["type"].endswith("state-data-locked")
        assert [e["field"] for e in problem["errors"]] == [f"processData.formData.{key}"]
    after = body_of(client.get(url(process)))
    assert after["version"] == process["version"]
    assert after["currentState"]["processData"]["formData"] == answers


@pytest.mark.parametrize(("definition", "edge"), RECORDED_BY_THE_SYSTEM)
def test_what_the_system_recorded_cannot_be_edited(client, app, definition, edge: Edge):
    """The data of a state an automated step or a deadline entered (eligibility results, a
    new tenure's id) is refused to edits, new keys included."""
    process = walk_to(client, app, definition, edge)
    response = edit(client, process, {"passed": True})
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["type"].endswith("state-data-locked")
    assert body_of(client.get(url(process)))["version"] == process["version"]


@pytest.mark.parametrize(("definition", "edge"), RESTRICTED)
def test_only_those_who_may_send_a_trigger_may_edit_what_it_recorded(
    client, app, definition, edge: Edge
):
    """An officer of the case's patch who may not send the trigger that entered the state
    gets 403 for an edit of its answers, without learning anything more."""
    process = walk_to(client, app, definition, edge)
    patch = process["currentState"]["assignment"]["patch"]
    outsider = sorted(outsiders(definition, edge[1]))[0]
    officer = signed_in(app, [outsider, f"patch:{patch}"])
    answers = process["currentState"]["processData"]["formData"]
    key, value = next(iter(answers.items()))
    response = officer.patch(
        url(process), json={"processData": {"formData": {key: changed(value)}}}
    )
    assert response.status_code == 403, response.get_json()
    assert body_of(client.get(url(process)))["currentState"]["processData"]["formData"] == answers


def test_an_officer_cannot_turn_an_area_managers_decline_into_an_approval(client, app):
    """The reported case: HOApproval declined by an area manager, then an officer of the
    patch sends hoRecommendation "approve" as an edit: 403, and the decision still reads
    "decline"; the area manager's own attempt is refused as well (409)."""
    definition = machines.get("soletojoint")
    assert definition is not None
    process = walk_to(
        client, app, definition, ("TenureInvestigationPassed", "HOApproval", "HOApprovalFailed")
    )
    officer = signed_in(app, ["housing-officers", "patch:patch1"])
    manager = signed_in(app, ["area-managers", "patch:patch1"])
    forged = {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"}

    assert edit(officer, process, forged).status_code == 403
    assert edit(manager, process, forged).status_code == 409
    stored = body_of(client.get(url(process)))["currentState"]
    assert stored["state"] == "HOApprovalFailed"
    assert stored["processData"]["formData"]["hoRecommendation"] == "decline"


def test_answers_that_decided_nothing_stay_editable_by_an_officer(client, app):
    """A booked appointment (a trigger with one outcome) can still be corrected by an officer
    of the patch: the locks apply to decisions and to what the system recorded only."""
    definition = machines.get("changeofname")
    assert definition is not None
    process = walk_to(
        client,
        app,
        definition,
        ("NameSubmitted", "RequestDocumentsAppointment", "DocumentsRequestedAppointment"),
    )
    officer = signed_in(app, ["housing-officers", "patch:patch1"])
    response = edit(officer, process, {"appointmentDateTime": "2027-01-05T09:30:00"})
    assert response.status_code == 200, response.get_json()
    assert body_of(response)["currentState"]["processData"]["formData"] == {
        "appointmentDateTime": "2027-01-05T09:30:00"
    }
