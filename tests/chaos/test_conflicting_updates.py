"""Fault 5: 100 conflicting updates of one process from parallel clients, with and without
If-Match, against the API served by gunicorn. No update is lost: every change a client was
told succeeded is stored exactly once, with one version and one event; every refused change
left no trace."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from storage.processes import from_document
from tests.chaos.conftest import Report
from tests.chaos.harness import (
    Client,
    Findings,
    Reply,
    Stack,
    audit,
    running_stack,
    size,
    wait_for,
)

pytestmark = pytest.mark.slow

CLIENTS = 100
RETRIES_ON_412 = size(3, 60)
"""How often an If-Match client reads again and retries after a 412 (the full run: until it
succeeds; the short one gives up sooner, which leaves more 412s to check)."""
NAME_FORM = {"title": "Ms", "firstName": "Patricia", "middleName": "", "surname": "Williams"}


def start_change_of_name(client: Client) -> dict[str, Any]:
    reply = client.call(
        "POST",
        "/api/v1/process",
        {
            "processName": "changeofname",
            "targetId": str(uuid.uuid4()),
            "targetType": "person",
            "relatedEntities": [],
            "formData": {},
            "documents": [],
            "assignment": {"patch": "E1"},
        },
    )
    assert reply.status == 201, reply.body
    process = reply.process
    reply = client.fire("changeofname", process["id"], "EnterNewName", NAME_FORM)
    assert reply.status == 200, reply.body
    return reply.process


def conflicting(
    client: Client, process: dict[str, Any], send: Callable[[int, dict[str, str]], Reply]
) -> list[tuple[int, Reply, int]]:
    """CLIENTS requests released together: even ones without If-Match (one attempt; the
    service re-applies them on conflict), odd ones read-modify-write with If-Match, reading
    again after each 412. Returns (client, last reply, 412s seen) for each."""
    address = f"/api/v1/process/{process['processName']}/{process['id']}"
    gate = threading.Barrier(CLIENTS)

    def one(i: int) -> tuple[int, Reply, int]:
        gate.wait()
        if i % 2 == 0:
            return i, send(i, {}), 0
        stale = 0
        for _ in range(RETRIES_ON_412):
            current = client.call("GET", address)
            assert current.status == 200, current.body
            reply = send(i, {"If-Match": current.headers["etag"]})
            if reply.status != 412:
                return i, reply, stale
            stale += 1
        return i, reply, stale

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(one, range(CLIENTS)))


def judge(
    results: list[tuple[int, Reply, int]], stored: Counter[str], value: Callable[[int], str]
) -> tuple[Findings, set[int]]:
    """Every 200 stored once; every other answer not at all: 412 (an If-Match client that
    kept losing), 409 (a client without If-Match whose change the service gave up on)."""
    findings = Findings()
    succeeded = set()
    for i, reply, _ in results:
        if reply.status == 200:
            succeeded.add(i)
            if stored[value(i)] == 0:
                findings.lost.append(f"client {i}: 200 but its change is not stored")
            elif stored[value(i)] > 1:
                findings.duplicated.append(f"client {i}: change stored {stored[value(i)]} times")
        else:
            refusal = b"stale-etag" if i % 2 else b"concurrent-change"
            assert reply.status in (409, 412), (i, reply.status, reply.body)
            assert refusal in reply.body, (i, reply.status, reply.body)
            if stored[value(i)]:
                findings.duplicated.append(f"client {i}: refused ({reply.status}) but stored")
    return findings, succeeded


def stored_process(stack: Stack, process_id: str) -> Any:
    return from_document(stack.db["processes"].find_one({"_id": process_id}))


def test_conflicting_updates_lose_nothing(report: Report) -> None:
    with running_stack("conflicts") as stack:
        client = stack.client()

        # Round 1: edits of the current state's form data (no transition).
        process = start_change_of_name(client)
        edits_from = process["version"]

        def edit(i: int, headers: dict[str, str]) -> Reply:
            return client.call(
                "PATCH",
                f"/api/v1/process/changeofname/{process['id']}",
                {"processData": {"formData": {"middleName": f"Middle{i}"}}},
                headers,
            )

        edit_results = conflicting(client, process, edit)
        after_edits = stored_process(stack, process["id"])
        edited = Counter(
            a.details["new"]["formData"]["middleName"]
            for a in after_edits.activity
            if a.kind == "StateDataUpdated"
        )
        edit_findings, edits_ok = judge(edit_results, edited, lambda i: f"Middle{i}")
        if after_edits.version != edits_from + len(edits_ok):
            edit_findings.lost.append(
                f"edits: version {after_edits.version}, expected {edits_from + len(edits_ok)}"
            )
        last_edit = max(
            (r for r in edit_results if r[1].status == 200), key=lambda r: r[1].process["version"]
        )
        if after_edits.current_state.form_data["middleName"] != f"Middle{last_edit[0]}":
            edit_findings.lost.append("edits: the stored name is not the last acknowledged one")

        # Round 2: triggers (each a transition into the same state).
        reply = client.fire(
            "changeofname",
            process["id"],
            "RequestDocumentsAppointment",
            {"appointmentDateTime": "2030-01-01T09:00:00"},
        )
        assert reply.status == 200, reply.body
        triggers_from = reply.process["version"]

        def appointment(i: int) -> str:
            return f"2030-{1 + i // 28:02d}-{1 + i % 28:02d}T10:00:00"

        def reschedule(i: int, headers: dict[str, str]) -> Reply:
            return client.fire(
                "changeofname",
                process["id"],
                "RescheduleDocumentsAppointment",
                {"appointmentDateTime": appointment(i)},
                headers,
            )

        trigger_results = conflicting(client, process, reschedule)
        after_triggers = stored_process(stack, process["id"])
        rescheduled = Counter(
            s.form_data["appointmentDateTime"]
            for s in after_triggers.states
            if s.trigger == "RescheduleDocumentsAppointment"
        )
        trigger_findings, triggers_ok = judge(trigger_results, rescheduled, appointment)
        if after_triggers.version != triggers_from + len(triggers_ok):
            trigger_findings.lost.append(
                f"triggers: version {after_triggers.version}, "
                f"expected {triggers_from + len(triggers_ok)}"
            )

        wait_for(lambda: not audit(stack).lost, 30, "every event on the stream", 0.3)
        findings = audit(stack)
        for part in (edit_findings, trigger_findings):
            findings.lost += part.lost
            findings.duplicated += part.duplicated
        results = edit_results + trigger_results
        report(
            findings,
            faults=len(results),
            **{
                "applied": len(edits_ok) + len(triggers_ok),
                "412 then re-read": sum(stale for _, _, stale in results),
                "409 gave up": sum(1 for _, r, _ in results if r.status == 409),
                "412 gave up": sum(1 for _, r, _ in results if r.status == 412),
                "slowest reply s": round(max(r.seconds for _, r, _ in results), 2),
            },
        )
