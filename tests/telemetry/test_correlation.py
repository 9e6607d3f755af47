"""One correlation id, sent with a request, followed through the API's and the worker's JSON
logs, into the events and out to webhook subscribers; personal details stay out of the logs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.chaos.harness import Stack
from tests.telemetry.conftest import json_lines, wait_for
from tests.workers.conftest import Receiver

NEW_NAME = {"title": "Mx", "firstName": "Anwen", "surname": "Quillfeather"}
"""A name no other line of any log could hold by chance."""
EVIDENCE = ["5658204f-f8f4-44c4-ad11-3345d295ac33"]
CHANGE_OF_NAME = [
    ("EnterNewName", NEW_NAME),
    ("RequestDocumentsDes", {}),
    (
        "ReviewDocuments",
        {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
    ),
    ("SubmitApplication", {}),
    ("TenureInvestigation", {"tenureInvestigationRecommendation": "approve"}),
    ("HOApproval", {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"}),
    ("ScheduleTenureAppointment", {"appointmentDateTime": "2030-06-01T10:00:00"}),
]


def change_a_name(service: Stack, correlation_id: str) -> str:
    """A change of name taken to its automated name update, the last trigger sent with
    `correlation_id`; the process id."""
    person_id = str(uuid.uuid4())
    service.db.persons.insert_one(
        {"_id": person_id, "title": "Mr", "firstName": "Pat", "surname": "Williams"}
    )
    client = service.client()
    started = client.call(
        "POST",
        "/api/v1/process",
        {
            "processName": "changeofname",
            "targetId": person_id,
            "targetType": "person",
            "relatedEntities": [],
            "formData": {},
            "documents": [],
        },
    )
    assert started.status == 201, started.body
    process_id = started.process["id"]
    for trigger, form in CHANGE_OF_NAME:
        reply = client.call(
            "PATCH",
            f"/api/v1/process/changeofname/{process_id}",
            {"trigger": trigger, "formData": form, "documents": EVIDENCE},
        )
        assert reply.status == 200, (trigger, reply.body)
    reply = client.call(
        "PATCH",
        f"/api/v1/process/changeofname/{process_id}",
        {"trigger": "UpdateName", "formData": {"hasNotifiedResident": True}, "documents": []},
        headers={"x-correlation-id": correlation_id},
    )
    assert reply.status == 200, reply.body
    assert reply.headers["x-correlation-id"] == correlation_id
    wait_for(
        lambda: service.db.processes.find_one(
            {"_id": process_id, "currentState.state": "NameUpdated"}
        ),
        "the name update step",
    )
    return process_id


def with_id(lines: list[dict[str, Any]], correlation_id: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("correlationId") == correlation_id]


def test_one_correlation_id_tells_the_story_of_a_request(service: Stack, subscriber: Receiver):
    """Grepping the id of the request that asked for the name update finds its access line in
    the API's log, the step that made the update in the worker's, the events it raised, and the
    webhook deliveries of those events."""
    correlation_id = f"trace-{uuid.uuid4()}"
    process_id = change_a_name(service, correlation_id)

    (access,) = with_id(json_lines(service.api.log_path), correlation_id)
    assert access["logger"] == "api.access"
    assert access["route"] == "/api/v1/process/<process_name>/<process_id>"
    assert (access["status"], access["trigger"]) == (200, "UpdateName")
    assert (access["fromState"], access["toState"]) == (
        "TenureAppointmentScheduled",
        "NameUpdateInProgress",
    )
    assert (access["processId"], access["sub"]) == (process_id, "chaos-officer")
    assert {"timestamp", "level", "message", "durationMs", "version"} <= set(access)

    def step_lines() -> list[dict[str, Any]]:
        lines = with_id(json_lines(service.worker.log_path), correlation_id)
        return [line for line in lines if line["logger"] == "workers.steps"]

    (step,) = wait_for(step_lines, "the step's line in the worker's log")
    assert step["message"] == "step moved the case on"
    assert (step["fromState"], step["toState"]) == ("NameUpdateInProgress", "NameUpdated")
    assert (step["processId"], step["taskName"]) == (process_id, "processes.run_step")
    assert step["taskId"]
    assert step["trigger"]

    events = [
        json.loads(fields["event"])
        for _, fields in service.redis_client.xrange("processes.events")
        if json.loads(fields["event"])["entityId"] == process_id
    ]
    raised = [e for e in events if e["correlationId"] == correlation_id]
    assert len(raised) >= 2  # the trigger's, and the step's outcome

    def delivered() -> list[dict[str, Any]]:
        return [d for d in subscriber.deliveries if d["event"]["id"] in {e["id"] for e in raised}]

    deliveries = wait_for(lambda: len(delivered()) == len(raised) and delivered(), "webhooks")
    sent = [{k.lower(): v for k, v in d["headers"].items()} for d in deliveries]
    assert {headers["x-correlation-id"] for headers in sent} == {correlation_id}


def test_names_and_form_data_stay_out_of_the_logs(service: Stack):
    """After a change of name has run to its update, no log of the API, the worker or beat
    holds the new name or any form data."""
    change_a_name(service, f"trace-{uuid.uuid4()}")
    for child in (service.api, service.worker, service.beat):
        text = child.log_path.read_text(errors="replace")
        for value in NEW_NAME.values():
            if value != "Mx":
                assert value not in text, f"{value!r} in {child.log_path}"
        assert "housingAreaManagerName" not in text
        assert "Jo Bloggs" not in text


def test_a_client_correlation_id_that_is_not_a_plain_token_is_replaced(service: Stack):
    """An id with spaces, quotes or hundreds of characters is not echoed into logs and events:
    the request gets a fresh one."""
    for sent in ("a b", '"quoted"', "x" * 300):
        reply = service.client().call(
            "GET", "/api/v1/healthcheck/ping", headers={"x-correlation-id": sent}
        )
        assert reply.status == 200
        kept = reply.headers["x-correlation-id"]
        assert kept != sent
        assert uuid.UUID(kept)
