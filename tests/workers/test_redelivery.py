"""A worker killed in the middle of a step: the step is redelivered to another worker within
seconds and takes effect exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from celery import Celery

from services.context import now
from tests.fake_services import FakeServices
from tests.support import fire, new_id, start
from tests.workers.conftest import Worker, worker_env

VISIBILITY_SECONDS = 3


@pytest.fixture
def broker_url(settings) -> str:  # type: ignore[no-untyped-def]
    """A Redis database of its own, so no other test worker takes these tasks."""
    return settings.redis_url.rsplit("/", 1)[0] + "/9"


@pytest.fixture
def sender(broker_url: str) -> Iterator[Celery]:
    app = Celery("redelivery-test", broker=broker_url)
    app.conf.task_serializer = "json"
    yield app
    app.close()


def seed(services: FakeServices) -> dict[str, str]:
    tenure, tenant, incoming = new_id(), new_id(), new_id()
    services.tenures[tenure] = {
        "id": tenure,
        "isActive": True,
        "tenureType": {"code": "SEC"},
        "householdMembers": [
            {"id": tenant, "personTenureType": "Tenant", "isResponsible": True},
            {"id": incoming, "personTenureType": "HouseholdMember", "isResponsible": False},
        ],
    }
    services.persons[incoming] = {
        "id": incoming,
        "firstName": "Jo",
        "surname": "Ray",
        "dateOfBirth": "1980-01-01",
    }
    return {"tenure": tenure, "tenant": tenant, "incoming": incoming}


def test_step_of_a_killed_worker_is_redelivered_and_applied_once(
    settings, db, client, dispatched, fake_services, broker_url, sender
):  # type: ignore[no-untyped-def]
    """SIGKILL during a step; a second worker finishes it; one transition is recorded."""
    case = seed(fake_services)
    process = start(
        client,
        "soletojoint",
        targetId=case["tenure"],
        relatedEntities=[{"id": case["tenant"], "targetType": "person", "subType": "tenant"}],
    )
    fire(client, process, "CheckAutomatedEligibility", {"incomingTenantId": case["incoming"]})
    (task,) = [f for f in dispatched.for_process(process["id"]) if f.kind == "task"]
    env = worker_env(
        settings,
        db.name,
        REDIS_URL=broker_url,
        TENURE_API_URL=fake_services.url,
        PERSON_API_URL=fake_services.url,
        BROKER_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS),
    )
    fake_services.delay_next(1, 60)  # the first worker hangs inside the step

    first = Worker(env, "redelivery-first")
    sender.send_task("processes.run_step", args=[task.name, task.payload], task_id=task.id)
    deadline = time.monotonic() + 20
    while not fake_services.requests_to("GET"):
        assert time.monotonic() < deadline, "the first worker never started the step"
        time.sleep(0.05)
    first.kill()
    killed_at = now()

    second = Worker(env, "redelivery-second")
    try:
        repo = db_repo(client)
        deadline = time.monotonic() + 30
        while repo.get(process["id"]).state != "AutomatedChecksPassed":
            assert time.monotonic() < deadline, "the step was not redelivered"
            time.sleep(0.1)
        finished = repo.get(process["id"])
    finally:
        second.stop()

    states = [entry.state for entry in finished.states]
    assert states.count("AutomatedChecksPassed") == 1
    assert states.count("AutomatedChecksInProgress") == 1
    assert len(fake_services.requests_to("GET", f"/api/v1/tenures/{case['tenure']}")) == 2
    redelivered_in = (finished.current_state.created_at - killed_at).total_seconds()
    assert redelivered_in < VISIBILITY_SECONDS + 15


def db_repo(client):  # type: ignore[no-untyped-def]
    return client.application.extensions["repository"]()
