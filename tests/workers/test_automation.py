"""Automated steps run by a real Celery worker: eligibility, tenure and name updates,
failures made visible and retried, and events delivered to the stream and webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.database import Database

from machines.model import FollowUp
from tests.support import BASE, body_of, fire, new_id, start
from tests.workers.conftest import WEBHOOK_SECRET

TODAY_ADULT = "1980-04-01"
EVIDENCE = ["5658204f-f8f4-44c4-ad11-3345d295ac33"]  # a document in the evidence store


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll until `condition()` is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def member(person_id: str, tenure_type: str, responsible: bool, born: str = TODAY_ADULT) -> dict:
    return {
        "id": person_id,
        "type": "Person",
        "fullName": "A Resident",
        "isResponsible": responsible,
        "dateOfBirth": born,
        "personTenureType": tenure_type,
    }


def seed_case(db: Database, *, incoming_born: str = TODAY_ADULT, code: str = "SEC") -> dict:
    """A sole tenure with its tenant and a household member who asks to become joint tenant."""
    tenure_id, tenant_id, incoming_id = new_id(), new_id(), new_id()
    db.tenures.insert_one(
        {
            "_id": tenure_id,
            "householdMembers": [
                member(tenant_id, "Tenant", True),
                member(incoming_id, "HouseholdMember", False, incoming_born),
            ],
            "tenuredAsset": {"id": new_id(), "type": "Dwelling", "fullAddress": "1 Mare Street"},
            "tenureType": {"code": code, "description": "Secure"},
            "isActive": True,
            "startOfTenureDate": "2010-01-01",
            "endOfTenureDate": None,
        }
    )
    for person_id, born in ((tenant_id, TODAY_ADULT), (incoming_id, incoming_born)):
        db.persons.insert_one(
            {
                "_id": person_id,
                "title": "Ms",
                "firstName": "Sam",
                "middleName": "",
                "surname": "Jones",
                "dateOfBirth": born,
                "tenures": [{"id": tenure_id, "type": "Secure", "isActive": True}],
            }
        )
    return {"tenure": tenure_id, "tenant": tenant_id, "incoming": incoming_id}


def start_joint(client, case: dict) -> dict:  # type: ignore[no-untyped-def]
    return start(
        client,
        "soletojoint",
        targetId=case["tenure"],
        relatedEntities=[{"id": case["tenant"], "targetType": "person", "subType": "tenant"}],
    )


def current(client, process: dict) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"{BASE}/{process['processName']}/{process['id']}")
    return body_of(response)


def wait_for_state(client, process: dict, state: str) -> dict:  # type: ignore[no-untyped-def]
    return wait_for(
        lambda: (body := current(client, process))["currentState"]["state"] == state and body,
        f"{process['id']} to reach {state}",
    )


def test_eligible_case_passes_automated_checks_with_reasons(live_client, worker_db):
    """The worker checks every rule, keeps each result with its reason, and moves the case on."""
    case = seed_case(worker_db)
    process = start_joint(live_client, case)
    response = fire(
        live_client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]}
    )
    assert body_of(response)["currentState"]["automation"]["status"] == "queued"

    done = wait_for_state(live_client, process, "AutomatedChecksPassed")

    checks = done["currentState"]["processData"]["formData"]["eligibilityChecks"]
    assert {c["id"] for c in checks} >= {"BR2", "BR3", "BR4", "BR6", "BR9", "BR19"}
    assert all(c["passed"] and c["reason"] for c in checks)
    assert {
        "id": case["incoming"],
        "targetType": "person",
        "subType": "householdMember",
        "description": "Sam Jones",
    } in done["relatedEntities"]
    assert done["currentState"]["permittedTriggers"] == ["CheckManualEligibility", "CancelProcess"]


def test_events_of_a_step_name_the_officer_who_asked_for_it(live_client, worker_db, events_stream):
    """The event of the outcome a worker stored names the officer whose trigger queued the
    step as its user, as activity history shows the author of each change."""
    case = seed_case(worker_db)
    process = start_joint(live_client, case)
    fire(live_client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]})
    wait_for_state(live_client, process, "AutomatedChecksPassed")

    def outcome_event() -> dict[str, Any] | None:
        for event in stream_events(events_stream):
            new = event["eventData"]["newData"]
            if event["entityId"] == process["id"] and new.get("state") == "AutomatedChecksPassed":
                return event
        return None

    event = wait_for(outcome_event, "the outcome's event on the stream")
    assert event["user"] == {"name": "Test Officer", "email": "officer@example.org"}


def test_a_finished_step_leaves_the_outbox_with_its_outcome(live_client, worker_db, events_stream):
    """The step's task leaves the outbox in the write that stores its outcome; what stays is
    that change's events, already on the stream, which leave with the next change."""
    case = seed_case(worker_db)
    process = start_joint(live_client, case)
    fire(live_client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]})
    wait_for_state(live_client, process, "AutomatedChecksPassed")

    def outbox() -> list[dict[str, Any]]:
        stored = worker_db["processes"].find_one({"_id": process["id"]}, {"outbox": 1})
        assert stored is not None
        return list(stored.get("outbox", []))

    left = outbox()
    assert [item["kind"] for item in left] == ["event"]
    published = {e["id"] for e in stream_events(events_stream)}
    assert {item["payload"]["id"] for item in left} <= published

    fire(live_client, process, "CancelProcess", {"comment": "Withdrawn"})
    assert [item["name"] for item in outbox()] == ["ProcessClosedEvent"]


def test_minor_fails_automated_checks_and_says_why(live_client, worker_db):
    """A proposed tenant under 18 fails BR19, and the reason is there for the officer."""
    case = seed_case(worker_db, incoming_born="2015-06-01")
    process = start_joint(live_client, case)
    fire(live_client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]})

    done = wait_for_state(live_client, process, "AutomatedChecksFailed")

    failed = [
        c
        for c in done["currentState"]["processData"]["formData"]["eligibilityChecks"]
        if not c["passed"]
    ]
    assert [c["id"] for c in failed] == ["BR19"]
    assert "under 18" in failed[0]["reason"]


def test_unknown_tenure_is_recorded_as_failure_and_can_be_retried(
    live_client, worker_db, events_stream
):
    """A missing record fails the step visibly; once fixed, retry runs it to its outcome."""
    case = seed_case(worker_db)
    tenure = worker_db.tenures.find_one_and_delete({"_id": case["tenure"]})
    process = start_joint(live_client, case)
    fire(live_client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]})

    failed = wait_for(
        lambda: (
            (b := current(live_client, process))["currentState"]["automation"]["status"]
            == "failed"
            and b
        ),
        "the failure to be recorded",
    )
    assert failed["currentState"]["state"] == "AutomatedChecksInProgress"
    assert case["tenure"] in failed["currentState"]["automation"]["reason"]
    wait_for(
        lambda: any(
            e["eventType"] == "AutomationFailed" and e["entityId"] == process["id"]
            for e in stream_events(events_stream)
        ),
        "AutomationFailed on the stream",
    )

    worker_db.tenures.insert_one(tenure)
    response = live_client.post(f"{BASE}/soletojoint/{process['id']}/automation/retry")
    assert response.status_code == 202, response.get_json()
    wait_for_state(live_client, process, "AutomatedChecksPassed")


def test_retry_is_refused_where_there_is_no_automated_step(live_client, worker_db):
    """Retrying automation on a state without a step is a 409, not a silent no-op."""
    process = start_joint(live_client, seed_case(worker_db))
    response = live_client.post(f"{BASE}/soletojoint/{process['id']}/automation/retry")
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"


def drive_to_tenure_appointment(client, process: dict) -> None:  # type: ignore[no-untyped-def]
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "CheckManualEligibility",
            {
                "br11": True,
                **{k: False for k in ("br12", "br13", "br15", "br16", "br7", "br8", "br9")},
            },
        ),
        ("CheckTenancyBreach", {"br5": False, "br10": False, "br17": False, "br18": False}),
        ("RequestDocumentsDes", {}),
        (
            "ReviewDocuments",
            {
                k: True
                for k in (
                    "seenPhotographicId",
                    "seenSecondId",
                    "isNotInImmigrationControl",
                    "seenProofOfRelationship",
                    "incomingTenantLivingInProperty",
                )
            },
        ),
        ("SubmitApplication", {}),
        ("TenureInvestigation", {"tenureInvestigationRecommendation": "approve"}),
        ("HOApproval", {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"}),
        ("ScheduleTenureAppointment", {"appointmentDateTime": "2026-12-10T10:00:00"}),
    ]
    for trigger, form in steps:
        response = fire(client, process, trigger, form, documents=EVIDENCE)
        assert response.status_code == 200, (trigger, response.get_json())


def test_sole_to_joint_runs_to_completion_and_creates_the_joint_tenure(live_client, worker_db):
    """The whole case: the old tenure ends on the start date and a joint one begins."""
    case = seed_case(worker_db)
    process = start_joint(live_client, case)
    fire(live_client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]})
    wait_for_state(live_client, process, "AutomatedChecksPassed")
    drive_to_tenure_appointment(live_client, process)

    fire(live_client, process, "UpdateTenure", {"tenureStartDate": "2026-12-14"})
    updated = wait_for_state(live_client, process, "TenureUpdated")

    new_tenure_id = updated["currentState"]["processData"]["formData"]["newTenureId"]
    assert worker_db.tenures.find_one({"_id": case["tenure"]})["endOfTenureDate"] == "2026-12-14"
    new_tenure = worker_db.tenures.find_one({"_id": new_tenure_id})
    assert new_tenure["startOfTenureDate"] == "2026-12-14"
    joint = {m["id"]: m for m in new_tenure["householdMembers"]}
    assert joint[case["incoming"]]["personTenureType"] == "Tenant"
    assert joint[case["incoming"]]["isResponsible"] is True
    assert {
        "id": new_tenure_id,
        "targetType": "tenure",
        "subType": "newTenure",
        "description": "New Tenure created for this process.",
    } in updated["relatedEntities"]
    response = fire(live_client, process, "CompleteProcess", {"hasNotifiedResident": True})
    assert body_of(response)["currentState"]["state"] == "ProcessCompleted"


def test_change_of_name_writes_the_submitted_name_to_the_person(live_client, worker_db):
    """UpdateName writes the name entered at the start of the case, then completes it."""
    person_id = new_id()
    worker_db.persons.insert_one(
        {
            "_id": person_id,
            "title": "Mr",
            "firstName": "Pat",
            "middleName": "",
            "surname": "Williams",
            "tenures": [],
        }
    )
    process = start(live_client, "changeofname", targetId=person_id)
    steps: list[tuple[str, dict[str, Any]]] = [
        ("EnterNewName", {"title": "Mx", "firstName": "Patrice", "surname": "Okafor"}),
        ("RequestDocumentsDes", {}),
        (
            "ReviewDocuments",
            {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
        ),
        ("SubmitApplication", {}),
        ("TenureInvestigation", {"tenureInvestigationRecommendation": "approve"}),
        ("HOApproval", {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"}),
        ("ScheduleTenureAppointment", {"appointmentDateTime": "2026-12-10T10:00:00"}),
        ("UpdateName", {"hasNotifiedResident": True}),
    ]
    for trigger, form in steps:
        assert fire(live_client, process, trigger, form, EVIDENCE).status_code == 200, trigger

    wait_for_state(live_client, process, "NameUpdated")

    person = worker_db.persons.find_one({"_id": person_id})
    assert (person["title"], person["firstName"], person["middleName"], person["surname"]) == (
        "Mx",
        "Patrice",
        "",
        "Okafor",
    )


def stream_events(events_stream) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [
        json.loads(fields["event"])
        for _, fields in events_stream.xrange("processes.events", count=100_000)
    ]


def test_events_reach_the_stream_once_with_the_request_correlation_id(
    live_client, worker_db, events_stream, receiver
):
    """ProcessStarted goes to the stream and to webhooks, signed, carrying the correlation id."""
    correlation_id = str(uuid.uuid4())
    body = {
        "processName": "changeofname",
        "targetId": new_id(),
        "targetType": "person",
        "relatedEntities": [],
        "formData": {},
        "documents": [],
    }
    response = live_client.post(BASE, json=body, headers={"x-correlation-id": correlation_id})
    assert response.headers["x-correlation-id"] == correlation_id
    process_id = body_of(response)["id"]

    def started() -> list[dict[str, Any]]:
        return [
            e
            for e in stream_events(events_stream)
            if e["eventType"] == "ProcessStartedEvent" and e["entityId"] == process_id
        ]

    (event,) = wait_for(started, "ProcessStartedEvent on the stream")
    assert event["correlationId"] == correlation_id
    assert event["sourceDomain"] == "Processes"
    assert event["eventData"]["newData"]["id"] == process_id

    delivery = wait_for(
        lambda: next((d for d in receiver.deliveries if d["event"]["id"] == event["id"]), None),
        "the webhook delivery",
    )
    expected = (
        "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), delivery["body"], hashlib.sha256).hexdigest()
    )
    assert delivery["headers"]["X-Processes-Signature-256"] == expected
    assert delivery["headers"]["X-Processes-Event-Id"] == event["id"]


def test_an_event_is_on_the_stream_when_the_request_returns_and_leaves_the_outbox_next(
    live_client, worker_db, events_stream
):
    """Events are published by the request that stored them, not by a queued task later, and
    leave the outbox with the process's next change, which does not publish them again."""
    process = start(live_client, "changeofname")

    def on_stream() -> list[str]:
        events = stream_events(events_stream)
        return [e["eventType"] for e in events if e["entityId"] == process["id"]]

    def outbox() -> list[str]:
        stored = worker_db["processes"].find_one({"_id": process["id"]}, {"outbox": 1})
        assert stored is not None
        return [item["name"] for item in stored.get("outbox", [])]

    assert on_stream() == ["ProcessStartedEvent"]
    assert outbox() == ["ProcessStartedEvent", "ProcessStartedAgainstPersonEvent"]

    fire(live_client, process, "CancelProcess", {"comment": "Withdrawn"})

    assert on_stream() == ["ProcessStartedEvent", "ProcessClosedEvent"]
    assert outbox() == ["ProcessClosedEvent"]


def test_a_step_delivered_twice_takes_effect_once(live_client, worker_db, settings):
    """A duplicate delivery of the same step finds the process moved on and does nothing."""
    from workers.app import celery_app

    case = seed_case(worker_db)
    process = start_joint(live_client, case)
    response = fire(
        live_client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]}
    )
    queued = body_of(response)
    payload = {
        "processId": process["id"],
        "processName": "soletojoint",
        "state": "AutomatedChecksInProgress",
        "version": queued["version"],
    }
    celery_app.send_task("processes.run_step", args=["check_sole_to_joint_eligibility", payload])

    wait_for_state(live_client, process, "AutomatedChecksPassed")
    time.sleep(1.0)  # let the duplicate run too

    states = [s["state"] for s in current(live_client, process)["processStates"]]
    assert states.count("AutomatedChecksPassed") == 1


def test_webhook_down_for_a_while_still_gets_every_event(live_client, worker_db, receiver):
    """Deliveries refused while the subscriber is down are retried until each event arrives."""
    receiver.refuse_next = 4
    process = start(live_client, "changeofname")
    fire(live_client, process, "CancelProcess", {"comment": "Withdrawn"})

    def delivered() -> set[str]:
        return {
            d["event"]["eventType"]
            for d in receiver.deliveries
            if process["id"]
            in (d["event"]["entityId"], d["event"]["eventData"]["newData"].get("id"))
        }

    wanted = {"ProcessStartedEvent", "ProcessStartedAgainstPersonEvent", "ProcessClosedEvent"}
    wait_for(lambda: delivered() == wanted, "every event to reach the webhook")
    assert receiver.refused >= 4
    ids = [
        d["event"]["id"] for d in receiver.deliveries if d["event"]["entityId"] == process["id"]
    ]
    assert len(set(ids)) == 2  # started and closed, each counted once after de-duplication


def test_an_event_handed_on_again_is_neither_appended_nor_delivered_twice(
    live_dispatch, events_stream, receiver, settings
):
    """Events are dispatched again by the next change and by the sweep: the stream keeps one
    copy and the subscriber gets one delivery. One whose publisher died after appending it,
    before queueing its deliveries, gets them when dispatched again."""

    def an_event() -> FollowUp:
        event_id = str(uuid.uuid4())
        envelope = {"id": event_id, "eventType": "ProcessUpdatedEvent", "entityId": new_id()}
        return FollowUp("event", "ProcessUpdatedEvent", envelope, datetime.now(UTC))

    def copies(follow_up: FollowUp) -> tuple[int, int]:
        event_id = follow_up.payload["id"]
        on_stream = sum(e["id"] == event_id for e in stream_events(events_stream))
        delivered = sum(d["event"]["id"] == event_id for d in receiver.deliveries)
        return on_stream, delivered

    twice = an_event()
    assert live_dispatch("p", [twice]) == [twice.id]
    wait_for(lambda: copies(twice) == (1, 1), "one delivery")
    assert live_dispatch("p", [twice]) == [twice.id]
    time.sleep(0.5)  # time for a second delivery, were one queued
    assert copies(twice) == (1, 1)

    half_done = an_event()
    key = f"{settings.events_stream}:published:{half_done.payload['id']}"
    events_stream.set(key, "1", ex=60)  # on the stream, its deliveries never queued
    assert live_dispatch("p", [half_done]) == [half_done.id]
    wait_for(lambda: copies(half_done)[1] == 1, "the delivery its publisher never queued")
