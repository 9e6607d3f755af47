"""Fault 2: MongoDB stopped. Every request that needs it answers 503 problem+json within 3 s
and nothing hangs; workers holding steps back off instead of giving them up; when MongoDB
comes back (restarted on the same data once the old server has exited) the same API processes
serve again and every queued step takes effect once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

from tests.chaos.conftest import Report
from tests.chaos.harness import (
    Client,
    Journal,
    Reply,
    audit,
    audit_final_state,
    finish_audits,
    running_stack,
    seed_tenures,
    size,
    wait_for,
)

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = size(9, 30)
QUEUED_STEPS = size(2, 6)
"""Few enough for two worker children to try each step at least three times during the
outage: more than its whole retry budget (STEP_MAX_RETRIES=1 below), so a step that counted
the database outage against that budget would be given up, and lost, before it returns."""
PROBES = 4
ANSWER_WITHIN = 3.0


def probe(client: Client, process: dict[str, Any], i: int) -> tuple[str, Reply]:
    """One request of each kind, in turn: reads, listings, creations, triggers, edits."""
    path = f"/api/v1/process/tenancyaudit/{process['id']}"
    kinds = [
        ("get", lambda: client.call("GET", path, timeout=10)),
        ("list", lambda: client.call("GET", "/api/v1/process?patch=E1", timeout=10)),
        ("start", lambda: client.start_audit(process["targetId"])),
        ("trigger", lambda: client.record_visit(process["id"])),
        ("edit", lambda: client.call("PATCH", path, {"assignment": {"patch": "E2"}}, timeout=10)),
        ("health", lambda: client.call("GET", "/api/v1/healthcheck/ping", timeout=10)),
    ]
    name, send = kinds[i % len(kinds)]
    return name, send()


def test_mongo_outage_answers_503_fast_and_recovers_without_restart(report: Report) -> None:
    with running_stack(
        "mongo-outage",
        STEP_MAX_RETRIES="1",
        RETRY_BASE_SECONDS="0.5",
        RETRY_MAX_SECONDS="1",
        OUTBOX_SWEEP_SECONDS="5",  # each sweep holds a worker child for 2 s during the outage
    ) as stack:
        tenures = seed_tenures(stack.db, QUEUED_STEPS + 1)
        client = stack.client()
        journal = Journal()
        pool = list(tenures)
        # One audit taken to VisitScheduled before the outage, for the probes to act on.
        probed_id = journal.created_process(client.start_audit(pool[0]), pool[0])
        assert probed_id is not None
        assert tenures[pool[0]]
        journal.fired(probed_id, "ScheduleVisit", client.schedule_visit(probed_id), (200,))
        probed = wait_for(
            lambda: (
                client.call("GET", f"/api/v1/process/tenancyaudit/{probed_id}").process[
                    "currentState"
                ]["state"]
                == "VisitScheduled"
            ),
            20,
            "the first audit's visit scheduled",
        )
        del probed
        probed_process = client.call("GET", f"/api/v1/process/tenancyaudit/{probed_id}").process

        # Steps queued while no worker runs, so that the worker meets them during the outage.
        stack.worker.stop()
        for tenure in pool[1:]:
            process_id = journal.created_process(client.start_audit(tenure), tenure)
            assert process_id is not None
            journal.fired(process_id, "ScheduleVisit", client.schedule_visit(process_id), (200,))
        assert not journal.failures, journal.failures
        api_pid = stack.api.proc.pid if stack.api.proc else None

        stack.mongo.stop()
        stack.worker.start()
        down_at = time.monotonic()
        answers: Counter[str] = Counter()
        wrong: list[str] = []
        slowest = 0.0
        lock = threading.Lock()

        def keep_probing(offset: int) -> None:
            nonlocal slowest
            i = offset
            while time.monotonic() - down_at < OUTAGE_SECONDS:
                name, reply = probe(client, probed_process, i)
                i += 1
                with lock:
                    answers[name] += 1
                    slowest = max(slowest, reply.seconds)
                    kind = reply.headers.get("content-type", "")
                    if (
                        reply.status != 503
                        or kind != "application/problem+json"
                        or reply.seconds > ANSWER_WITHIN
                    ):
                        wrong.append(f"{name}: {reply.status} {kind} in {reply.seconds:.2f}s")

        probes = [threading.Thread(target=keep_probing, args=(n,)) for n in range(PROBES)]
        for thread in probes:
            thread.start()
        for thread in probes:
            thread.join(OUTAGE_SECONDS + 30)
        # What needs no database still answers.
        definitions = client.call("GET", "/api/v1/process-definitions", timeout=10)
        assert definitions.status == 200, definitions.body[:300]
        assert definitions.seconds < ANSWER_WITHIN
        assert stack.worker.running, "the worker died during the outage"
        retries_during_outage = stack.worker.log_since_start().count("waits for the database")

        stack.mongo.start()
        back_at = time.monotonic()
        recovered_in = wait_for(
            lambda: client.call("GET", "/api/v1/healthcheck/ping").status == 200,
            30,
            "the API answering again",
        )
        assert stack.api.proc is not None
        assert stack.api.proc.pid == api_pid
        assert stack.api.starts == 1, "the API was restarted"
        assert not wrong, wrong[:10]

        finished_in = finish_audits(stack, journal, timeout=size(60, 120))
        findings = audit(stack, journal, audit_final_state(tenures))
        report(
            findings,
            faults=1,
            **{
                "MongoDB down s": round(back_at - down_at, 1),
                "requests during outage": sum(answers.values()),
                "all 503 problem+json": not wrong,
                "slowest answer s": round(slowest, 2),
                "step retries during outage": retries_during_outage,
                "API serving again in s": round(recovered_in, 1),
                "queued steps done in s": round(finished_in, 1),
            },
        )
