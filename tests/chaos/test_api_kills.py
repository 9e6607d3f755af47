"""Fault 4: the API process (gunicorn and its workers) SIGKILLed in the middle of requests.

Some kills land at random; others while Redis is paused, so that requests are stuck handing
their follow-ups on after their change was committed: those follow-ups are certainly left in
the outbox when the API dies. Afterwards no stored process is half-written (its history is a
chain of allowed transitions, its version counts its changes), every change a client was told
about is there, and beat's outbox sweep hands on every follow-up left behind."""

from __future__ import annotations

import random
import signal
import time

import pytest

from tests.chaos.conftest import Report
from tests.chaos.harness import (
    Journal,
    clients_working,
    finish_and_audit,
    running_stack,
    seed_tenures,
    size,
)

pytestmark = pytest.mark.slow

KILLS = size(4, 12)
CLIENTS = 6
PAUSED_REDIS_EVERY = 2
"""Every second kill lands while Redis is paused (requests stuck after their commit)."""


def test_api_killed_mid_request_leaves_nothing_half_done(report: Report) -> None:
    with running_stack("api-kills") as stack:
        tenures = seed_tenures(stack.db, size(600, 3000))
        journal = Journal()
        pending_at_kills: set[str] = set()  # ids of follow-ups in outboxes when the API died
        with clients_working(stack, list(tenures), journal, CLIENTS, answered_or_not=True):
            for kill in range(KILLS):
                time.sleep(random.uniform(0.5, 1.5))
                paused = kill % PAUSED_REDIS_EVERY == 1
                if paused:
                    stack.redis.send(signal.SIGSTOP)
                    time.sleep(0.7)  # requests commit, then wait on the broker
                stack.api.kill()
                for document in stack.db["processes"].find(
                    {"outbox.0": {"$exists": True}}, {"outbox.id": 1}
                ):
                    pending_at_kills.update(item["id"] for item in document["outbox"])
                if paused:
                    stack.redis.send(signal.SIGCONT)
                stack.api.start()
            time.sleep(1.0)
        assert not journal.failures, journal.failures[:10]
        findings, finished_in = finish_and_audit(stack, journal, tenures, timeout=size(60, 240))
        report(
            findings,
            faults=KILLS,
            **{
                "requests": sum(journal.answers.values()),
                "unanswered": journal.answers[0],
                "follow-ups pending at kills": len(pending_at_kills),
                "swept follow-ups": stack.swept(),
                "all done in s": round(finished_in, 1),
            },
        )
