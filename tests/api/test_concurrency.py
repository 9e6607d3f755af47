"""Concurrent changes to one process over real HTTP: no lost update, no 5xx, exact history."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import token
from tests.support import BASE, body_of, fire, start, state_of

REQUESTS = 50
NAME_FORM = {"title": "Ms", "firstName": "Patricia", "middleName": "", "surname": "Williams"}


AUTH: dict[str, str] = {}


@pytest.fixture
def server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The test app served over HTTP by a threaded server; yields its base URL."""
    AUTH["Authorization"] = f"Bearer {token(app, ['processes-admin'])}"
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def patch(
    address: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """Send a JSON PATCH and return its status and decoded body, whatever the status."""
    request = urllib.request.Request(
        address,
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Content-Type": "application/json", **AUTH, **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def burst(
    calls: list[tuple[str, dict[str, Any], dict[str, str]]],
) -> list[tuple[int, dict[str, Any]]]:
    """Send every call at once, each from its own thread, released together."""
    gate = threading.Barrier(len(calls))

    def send(call: tuple[str, dict[str, Any], dict[str, str]]) -> tuple[int, dict[str, Any]]:
        gate.wait()
        return patch(*call)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def test_concurrent_edits_lose_no_update(client, server: str, dispatched):  # type: ignore[no-untyped-def]
    """50 simultaneous edits: each 200 is one stored version and one event; stale ETags get 412."""
    # Requests without If-Match are retried by the service; one that keeps losing gets the
    # documented 409 concurrent-change problem and leaves no trace.
    process = body_of(fire(client, start(client, "changeofname"), "EnterNewName", NAME_FORM))
    assert process["currentState"]["state"] == "NameSubmitted"
    before = process["version"]
    events_before = len(
        [f for f in dispatched.for_process(process["id"]) if f.name == "ProcessUpdatedEvent"]
    )
    address = f"{server}{BASE}/changeofname/{process['id']}"
    calls = [
        (
            address,
            {"processData": {"formData": {"middleName": f"Middle{i}"}}},
            {"If-Match": f'"{before}"'} if i % 2 else {},
        )
        for i in range(REQUESTS)
    ]

    results = burst(calls)

    for i, (status, body) in enumerate(results):
        if i % 2:
            assert status in (200, 412), body
        else:
            assert status == 200 or gave_up(status, body), body
    successes = [(i, body) for i, (status, body) in enumerate(results) if status == 200]
    assert successes
    # All conditional requests named the same version, so at most one of them can apply.
    assert len([i for i, _ in successes if i % 2]) <= 1

    stored = body_of(client.get(address.removeprefix(server)))
    assert stored["version"] == before + len(successes)
    versions = sorted(body_of_payload(body)["version"] for _, body in successes)
    assert versions == list(range(before + 1, before + len(successes) + 1))
    last = max(successes, key=lambda item: body_of_payload(item[1])["version"])
    assert stored["currentState"]["processData"]["formData"] == {
        **NAME_FORM,
        "middleName": f"Middle{last[0]}",
    }
    events = [f for f in dispatched.for_process(process["id"]) if f.name == "ProcessUpdatedEvent"]
    assert len(events) - events_before == len(successes)
    assert len(stored["processStates"]) == len(process["processStates"])


def test_concurrent_triggers_each_recorded_once(client, server: str):  # type: ignore[no-untyped-def]
    """50 simultaneous reschedules: every 200 is exactly one history entry and one version."""
    process = body_of(fire(client, start(client, "changeofname"), "EnterNewName", NAME_FORM))
    response = fire(
        client,
        process,
        "RequestDocumentsAppointment",
        {"appointmentDateTime": "2026-12-01T10:30:00"},
    )
    assert state_of(response) == "DocumentsRequestedAppointment"
    before = body_of(response)["version"]
    address = f"{server}{BASE}/changeofname/{process['id']}"
    calls = [
        (
            address,
            {
                "trigger": "RescheduleDocumentsAppointment",
                "formData": {
                    "appointmentDateTime": f"2026-12-{1 + i % 28:02d}T{9 + i % 8:02d}:00"
                },
                "documents": [],
            },
            {},
        )
        for i in range(REQUESTS)
    ]

    results = burst(calls)

    for status, body in results:
        assert status == 200 or gave_up(status, body), body
    successes = [body for status, body in results if status == 200]
    assert successes
    stored = body_of(client.get(address.removeprefix(server)))
    reschedules = [
        s for s in stored["processStates"] if s["trigger"] == "RescheduleDocumentsAppointment"
    ]
    assert len(reschedules) == len(successes)
    assert stored["version"] == before + len(successes)
    assert stored["currentState"]["state"] == "DocumentsAppointmentRescheduled"
    # Each success returned a distinct version: no two requests claimed the same write.
    versions = sorted(body_of_payload(body)["version"] for body in successes)
    assert versions == list(range(before + 1, before + len(successes) + 1))


def gave_up(status: int, body: dict[str, Any]) -> bool:
    """The documented answer when a change without If-Match kept losing to others: 409, retry."""
    return status == 409 and body.get("type") == "urn:processes-api:problem:concurrent-change"


def body_of_payload(payload: dict[str, Any]) -> dict[str, Any]:
    (body,) = payload.values()
    return body
