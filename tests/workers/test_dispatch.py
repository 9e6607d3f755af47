"""The dispatcher on the real Redis: what it asks of the stream when events come again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import redis

from adapters.event_sinks import RedisStream
from machines.model import FollowUp
from settings import Settings
from workers.dispatch import Dispatcher


class CountingStream(RedisStream):
    def __init__(self, client: redis.Redis, stream: str) -> None:
        super().__init__(client, stream)
        self.calls = 0

    def publish(self, envelope: dict[str, Any]) -> str | None:
        self.calls += 1
        return super().publish(envelope)


def event() -> FollowUp:
    envelope = {"id": str(uuid.uuid4()), "eventType": "ProcessUpdatedEvent"}
    return FollowUp("event", "ProcessUpdatedEvent", envelope, datetime.now(UTC))


def test_events_published_by_this_dispatcher_are_not_sent_to_the_stream_again(
    settings: Settings,
) -> None:
    """The next change of a process dispatches its events again: those this process published
    cost no call; those another process published are checked with the stream."""
    client = redis.Redis.from_url(settings.redis_url)
    name = f"test-dispatch-{uuid.uuid4().hex[:8]}"
    stream = CountingStream(client, name)
    dispatcher = Dispatcher(stream, [])
    try:
        mine, theirs = event(), event()
        dispatcher("p", [mine])
        Dispatcher(RedisStream(client, name), [])("p", [theirs])  # another API process
        assert stream.calls == 1

        assert dispatcher("p", [mine, theirs]) == [mine.id, theirs.id]

        assert stream.calls == 2  # `theirs` was checked with the stream, `mine` was not
        assert client.xlen(name) == 2
    finally:
        client.delete(name)
        client.close()
