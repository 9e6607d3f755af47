"""Whether the whole service is ready, part by part: what GET /api/v1/healthcheck/ready runs.

Each check says `ok`, `failing` (and why) or `skipped` (and which failure made it moot), and
how long it took. MongoDB and Redis must answer; at least one worker must answer a ping over
the broker; beat must have sent a periodic task lately (it notes each in Redis); and no
follow-up may have waited in an outbox for longer than the sweeps allow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import redis

from adapters.heartbeats import last_beat, redis_answers
from settings import Settings
from storage import is_available
from storage.mongo import database
from storage.operations import OperationsQueries

WORKER_PING_SECONDS = 2.0
"""How long a worker has to answer (a busy pool answers between tasks)."""


@dataclass(frozen=True)
class Check:
    """One part's answer."""

    name: str
    status: str  # ok, failing, skipped
    duration_ms: float
    detail: str = ""

    def json(self) -> dict[str, object]:
        body: dict[str, object] = {"status": self.status, "durationMs": self.duration_ms}
        if self.detail:
            body["detail"] = self.detail
        return body


class NotReady(Exception):
    """A check found its part not ready; the message says what is wrong."""


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in order; a check that needs a failing part is skipped, not waited on."""
    checks: list[Check] = []
    mongo = _timed("mongodb", lambda: _mongodb(settings))
    store = _timed("redis", lambda: redis_answers(_redis(settings.redis_url)))
    checks += [mongo, store]
    if store.status == "ok":
        checks.append(_timed("worker", _worker))
        checks.append(_timed("beat", lambda: _beat(settings)))
    else:
        checks += [_skipped("worker", "redis"), _skipped("beat", "redis")]
    if mongo.status == "ok":
        checks.append(_timed("outbox", lambda: _outbox(settings)))
    else:
        checks.append(_skipped("outbox", "mongodb"))
    return checks


def _timed(name: str, check: Callable[[], str | None]) -> Check:
    started = time.perf_counter()
    try:
        detail = check() or ""
        status = "ok"
    except Exception as error:  # noqa: BLE001 - any failure of the part is the answer
        detail = str(error) or type(error).__name__
        status = "failing"
    return Check(name, status, round((time.perf_counter() - started) * 1000, 1), detail)


def _skipped(name: str, because: str) -> Check:
    return Check(name, "skipped", 0.0, f"not checked: {because} is failing")


def _mongodb(settings: Settings) -> None:
    if not is_available(settings):
        raise NotReady("MongoDB does not answer a ping")


def _worker() -> str:
    from workers.app import celery_app  # the API's dispatcher loads it anyway

    replies = celery_app.control.ping(timeout=WORKER_PING_SECONDS, limit=1)
    if not replies:
        raise NotReady(f"no worker answered a ping within {WORKER_PING_SECONDS:.0f} s")
    return f"{next(iter(replies[0]))} answered"


def _beat(settings: Settings) -> str:
    sent = last_beat(_redis(settings.redis_url))
    if sent is None:
        raise NotReady("beat has sent no periodic task in the last day")
    age = time.time() - sent
    if age > settings.ready_beat_max_age_seconds:
        raise NotReady(f"beat last sent a periodic task {age:.0f} s ago")
    return f"last sent a periodic task {age:.0f} s ago"


def _outbox(settings: Settings) -> str:
    _, age = OperationsQueries(database(settings.mongo_uri, settings.mongo_db)).outbox()
    if age > settings.ready_outbox_max_age_seconds:
        raise NotReady(
            f"a follow-up has waited {age:.0f} s in an outbox (more than "
            f"{settings.ready_outbox_max_age_seconds:.0f} s): is the sweep running?"
        )
    return f"oldest follow-up {age:.0f} s old"


@cache
def _redis(url: str) -> redis.Redis:
    # Short timeouts: a Redis that does not answer must not hold a readiness probe.
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
