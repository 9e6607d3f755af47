"""Fault 1: Redis (the broker and the events stream) stopped while clients keep creating and
progressing processes. No API write fails or waits on the broker: follow-ups that cannot be
queued stay in the outbox. Once Redis is back, beat's outbox sweep queues them, automation and
event delivery catch up, and nothing is lost or doubled."""

from __future__ import annotations

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

OUTAGE_SECONDS = size(4, 30)
CLIENTS = size(3, 4)
BEFORE_SECONDS = 1.5
AFTER_SECONDS = 1.0
MAX_WRITE_SECONDS = 2.0
"""A write must not wait on the broker: the publish retry policy gives up well before this."""


def test_redis_outage_loses_no_write_and_no_follow_up(report: Report) -> None:
    with running_stack("redis-outage") as stack:
        tenures = seed_tenures(stack.db, size(400, 3000))
        journal = Journal()
        with clients_working(stack, list(tenures), journal, CLIENTS):
            time.sleep(BEFORE_SECONDS)
            stack.redis.stop()
            down_at = time.monotonic()
            created_before = len(journal.created)
            time.sleep(OUTAGE_SECONDS)
            created_during = len(journal.created) - created_before
            stack.redis.start()
            down_for = time.monotonic() - down_at
            time.sleep(AFTER_SECONDS)
        assert not journal.failures, journal.failures[:10]
        assert created_during > 0, "no process was created while Redis was down"
        assert journal.slowest < MAX_WRITE_SECONDS, f"a write took {journal.slowest:.1f}s"
        findings, caught_up = finish_and_audit(stack, journal, tenures, timeout=size(60, 240))
        report(
            findings,
            faults=1,
            **{
                "Redis down s": round(down_for, 1),
                "created while down": created_during,
                "API writes": sum(journal.answers.values()),
                "failed": len(journal.failures),
                "slowest write s": round(journal.slowest, 2),
                "caught up in s": round(caught_up, 1),
            },
        )
