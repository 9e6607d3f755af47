"""GET /api/v1/healthcheck/ready on a service of its own: 200 with every part checked, 503
naming the part that stopped, and 200 again once it is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.harness import Reply, Stack, running_stack
from tests.telemetry.conftest import wait_for

READY = "/api/v1/healthcheck/ready"
PARTS = {"mongodb", "redis", "worker", "beat", "outbox"}


@pytest.fixture(scope="module")
def own() -> Iterator[Stack]:
    """A service whose parts these tests stop; beat counts as stopped after 3 s of silence."""
    with running_stack("ready", READY_BEAT_MAX_AGE_SECONDS="3") as stack:
        yield stack


def ready(stack: Stack) -> Reply:
    return stack.client().call("GET", READY, headers={"Authorization": ""})


def answers(stack: Stack, status: int) -> Reply | None:
    reply = ready(stack)
    return reply if reply.status == status else None


def test_ready_checks_every_part_and_says_how_long_each_took(own: Stack):
    """With everything running, /ready answers 200 (no token needed) and lists each part as ok
    with its duration."""
    reply = wait_for(lambda: answers(own, 200), "the service to be ready")
    body = reply.json
    assert body["status"] == "ready"
    assert set(body["checks"]) == PARTS
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["durationMs"] >= 0


def test_redis_stopped_is_named_and_back_is_ready(own: Stack):
    """Redis stopped: 503 problem+json naming Redis, the checks that need it skipped; Redis
    started again: 200 once the worker has reconnected."""
    own.redis.stop()
    try:
        reply = ready(own)
        assert reply.status == 503
        assert reply.headers["content-type"] == "application/problem+json"
        body = reply.json
        assert body["failing"] == ["redis"]
        assert "redis" in body["detail"]
        assert body["checks"]["redis"]["status"] == "failing"
        assert body["checks"]["worker"]["status"] == "skipped"
        assert body["checks"]["mongodb"]["status"] == "ok"
    finally:
        own.redis.start()
    wait_for(lambda: answers(own, 200), "ready again after Redis", timeout=60)


def test_no_worker_answering_is_named(own: Stack):
    """Every worker stopped: 503 naming the worker; one started again: 200."""
    own.worker.stop()
    try:
        reply = ready(own)
        assert reply.status == 503
        assert reply.json["failing"] == ["worker"]
    finally:
        own.worker.start()
    wait_for(lambda: answers(own, 200), "ready again with a worker", timeout=60)


def test_beat_silent_for_too_long_is_named(own: Stack):
    """Beat stopped: once it has sent nothing for READY_BEAT_MAX_AGE_SECONDS, 503 names beat."""
    own.beat.stop()
    try:
        reply = wait_for(
            lambda: (r := answers(own, 503)) and "beat" in r.json["failing"] and r,
            "beat to be missed",
        )
        assert reply.json["checks"]["beat"]["status"] == "failing"
        assert "beat last sent" in reply.json["detail"]
    finally:
        own.beat.start()
    wait_for(lambda: answers(own, 200), "ready again with beat", timeout=60)
