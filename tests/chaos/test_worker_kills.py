"""Fault 3: the Celery worker SIGKILLed every few seconds while a load of processes with an
automated step goes through it. A killed worker's unacknowledged tasks are redelivered
(BROKER_VISIBILITY_TIMEOUT is seconds here) and, steps being conditioned on the automation
they were queued for, take effect once: every process reaches its expected state,
no history entry is doubled and every event reaches the stream once."""

from __future__ import annotations

import random
import threading
import time

import pytest

from tests.chaos.conftest import Report
from tests.chaos.harness import (
    Journal,
    Stack,
    audit,
    audit_final_state,
    finish_audits,
    running_stack,
    seed_tenures,
    size,
)

pytestmark = pytest.mark.slow

PROCESSES = size(100, 500)
LOAD_SECONDS = size(8, 50)
"""The processes are started evenly over this time, so that the kills land amid the steps."""
CLIENTS = 4
KILL_EVERY = (1.5, 3.0)  # seconds, drawn at random between these


def create(stack: Stack, tenures: list[str], journal: Journal, started: float) -> None:
    client = stack.client()
    while True:
        with journal.lock:
            if not tenures:
                return
            tenure = tenures.pop()
            due = started + LOAD_SECONDS * (PROCESSES - len(tenures) - 1) / PROCESSES
        time.sleep(max(0.0, due - time.monotonic()))
        process_id = journal.created_process(client.start_audit(tenure), tenure)
        if process_id is not None:
            journal.fired(process_id, "ScheduleVisit", client.schedule_visit(process_id), (200,))


def keep_killing(stack: Stack, stop: threading.Event, kills: list[float]) -> None:
    """SIGKILL the worker (its whole process group) every few seconds and start it again."""
    while not stop.wait(random.uniform(*KILL_EVERY)):
        stack.worker.kill()
        kills.append(time.monotonic())
        stack.worker.start(wait=False)


def test_worker_killed_every_few_seconds_loses_and_doubles_nothing(report: Report) -> None:
    # A longer grace than elsewhere: while the worker keeps dying, follow-ups wait in the queue
    # for seconds, and a sweep would only add copies of them.
    with running_stack("worker-kills", OUTBOX_GRACE_SECONDS="5") as stack:
        tenures = seed_tenures(stack.db, PROCESSES)
        pool = list(tenures)
        journal = Journal()
        stop = threading.Event()
        kills: list[float] = []
        killer = threading.Thread(target=keep_killing, args=(stack, stop, kills))
        killer.start()
        try:
            clients = [
                threading.Thread(target=create, args=(stack, pool, journal, time.monotonic()))
                for _ in range(CLIENTS)
            ]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join(300)
            assert not journal.failures, journal.failures[:10]
            # Kills go on while the steps the load queued are still running, then stop: what
            # is checked is that everything is done once the worker stays up, not how fast
            # a worker that keeps dying drains its queue on a busy machine.
            stop.wait(LOAD_SECONDS / 2)
        finally:
            stop.set()
            killer.join(60)
        finished_in = finish_audits(stack, journal, timeout=size(90, 600))
        assert len(kills) >= LOAD_SECONDS / KILL_EVERY[1] - 1, "too few kills during the load"
        stack.worker.wait_ready()

        findings = audit(stack, journal, audit_final_state(tenures))
        assert len(journal.created) == PROCESSES
        report(
            findings,
            faults=len(kills),
            **{
                "processes": PROCESSES,
                "worker kills": len(kills),
                "all done in s": round(finished_in, 1),
                "tasks redelivered": stack.redelivered(),
                "swept follow-ups": stack.swept(),
            },
        )
