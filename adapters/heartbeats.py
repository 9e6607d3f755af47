"""Beat's heartbeat in Redis: when it last sent a periodic task, for the readiness check."""

from __future__ import annotations

import time

import redis

BEAT_KEY = "processes:beat:last-sent"
KEEP_SECONDS = 86_400


def record_beat(client: redis.Redis, at: float | None = None) -> None:
    """Note that beat sent a periodic task now (or `at`, Unix time)."""
    client.set(BEAT_KEY, repr(time.time() if at is None else at), ex=KEEP_SECONDS)


def last_beat(client: redis.Redis) -> float | None:
    """When beat last sent a periodic task (Unix time), or None if not in the last day."""
    value = client.get(BEAT_KEY)
    return None if value is None else float(value)


def redis_answers(client: redis.Redis) -> None:
    """Return if Redis answers a PING; raise `redis.RedisError` (or OSError) otherwise."""
    client.ping()
