"""Automated steps against the Tenure and Person APIs over real HTTP (a fake the tests run)."""

from __future__ import annotations

import pytest

from adapters.http_services import HttpPersons, HttpTenures
from machines.ports import Ports, ServiceUnavailable
from services import automation
from services.context import Context
from tests.support import fire, new_id, start

TOKEN = "service-token"


def ports_for(fake_services) -> Ports:  # type: ignore[no-untyped-def]
    return Ports(
        tenures=HttpTenures(fake_services.url, TOKEN, timeout=2.0),
        persons=HttpPersons(fake_services.url, TOKEN, timeout=2.0),
    )


def seed(fake_services) -> dict[str, str]:  # type: ignore[no-untyped-def]
    tenure_id, tenant_id, incoming_id = new_id(), new_id(), new_id()
    fake_services.tenures[tenure_id] = {
        "id": tenure_id,
        "isActive": True,
        "tenureType": {"code": "SEC", "description": "Secure"},
        "householdMembers": [
            {
                "id": tenant_id,
                "personTenureType": "Tenant",
                "isResponsible": True,
                "dateOfBirth": "1970-01-01",
            },
            {
                "id": incoming_id,
                "personTenureType": "HouseholdMember",
                "isResponsible": False,
                "dateOfBirth": "1975-01-01",
            },
        ],
        "tenuredAsset": {"id": new_id(), "fullAddress": "2 Mare Street"},
    }
    fake_services.persons[incoming_id] = {
        "id": incoming_id,
        "firstName": "Ali",
        "surname": "Khan",
        "dateOfBirth": "1975-01-01",
        "tenures": [{"id": tenure_id, "type": "Secure", "isActive": True}],
    }
    return {"tenure": tenure_id, "tenant": tenant_id, "incoming": incoming_id}


def queued_step(client, app, dispatched, fake_services):  # type: ignore[no-untyped-def]
    case = seed(fake_services)
    process = start(
        client,
        "soletojoint",
        targetId=case["tenure"],
        relatedEntities=[{"id": case["tenant"], "targetType": "person", "subType": "tenant"}],
    )
    fire(client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]})
    (task,) = [f for f in dispatched.for_process(process["id"]) if f.kind == "task"]
    return process, task


def test_eligibility_step_reads_both_records_over_http_with_the_token(
    client, app, dispatched, fake_services
):
    """The step GETs the tenure and the incoming tenant, authenticated, and fires its outcome."""
    process, task = queued_step(client, app, dispatched, fake_services)
    repo = app.extensions["repository"]()

    done = automation.run_step(
        repo, task.name, task.payload, ports_for(fake_services), Context(), lambda *_: None
    )

    assert done is not None
    assert done.state == "AutomatedChecksPassed"
    gets = fake_services.requests_to("GET")
    assert len(gets) == 2
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in gets)


def test_unavailable_service_is_left_to_the_caller_to_retry(
    client, app, dispatched, fake_services
):
    """A 503 that outlasts the client's own retries is transient: it propagates (the task
    retries) and the process is unchanged."""
    process, task = queued_step(client, app, dispatched, fake_services)
    repo = app.extensions["repository"]()
    fake_services.fail_next(3, 503)

    with pytest.raises(ServiceUnavailable):
        automation.run_step(
            repo, task.name, task.payload, ports_for(fake_services), Context(), lambda *_: None
        )

    stored = repo.get(process["id"])
    assert stored.state == "AutomatedChecksInProgress"
    assert stored.current_state.automation["status"] == "queued"


def test_rejected_request_is_recorded_as_a_failure(client, app, dispatched, fake_services):
    """A 400 from the service will not pass by retrying: the failure is recorded at once."""
    process, task = queued_step(client, app, dispatched, fake_services)
    repo = app.extensions["repository"]()
    fake_services.fail_next(1, 400, "Bad tenure id.")

    recorded = automation.run_step(
        repo,
        task.name,
        task.payload,
        ports_for(fake_services),
        Context(),
        app.extensions["dispatch"],
    )

    assert recorded is not None
    assert recorded.state == "AutomatedChecksInProgress"
    assert [f.kind for f in repo.get(process["id"]).outbox] == ["event"]  # the task is done
    automation_state = repo.get(process["id"]).current_state.automation
    assert automation_state["status"] == "failed"
    assert "Bad tenure id." in automation_state["reason"]
    assert TOKEN not in automation_state["reason"]
    assert "AutomationFailed" in dispatched.names()
