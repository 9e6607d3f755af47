"""Hand follow-ups on: the production `Dispatch` of the API, the workers and beat.

Automated steps go to the broker as task messages. Events are appended to the stream here and
now: a task per event would cost a broker round trip and a worker's time for one Redis call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from typing import Any

from adapters.event_sinks import RedisStream
from machines.model import FollowUp
from workers import monitoring, wiring
from workers.app import celery_app

RUN_STEP = "processes.run_step"
DELIVERIES_QUEUED = "2"
"""The stream's mark of an event whose webhook deliveries are queued."""
DELIVER_WEBHOOK = "processes.deliver_webhook"
REMEMBERED_EVENTS = 10_000
"""How many of the events it published a dispatcher remembers (about 1 MB)."""


class Dispatcher:
    """Queues steps on the broker, publishes events to `stream` and queues their deliveries
    to the webhook subscribers."""

    def __init__(self, stream: RedisStream, webhook_urls: Sequence[str]) -> None:
        self._stream = stream
        self._webhook_urls = tuple(webhook_urls)
        # Events this process published, most recent last: the next change of a process
        # dispatches its events again (`settle`), and these need no call to the stream.
        self._published_here: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    @monitoring.counts_redis_failures("dispatch")
    def __call__(self, process_id: str, follow_ups: list[FollowUp]) -> list[str]:
        """Queue each step and publish each event; return the ids of the events published.

        Raises when the broker or the stream does not take them; what was not done stays in
        the outbox for the sweep. Events may come again (`settle`, the sweep): the stream
        drops those it holds, and their deliveries are not queued twice.
        """
        for follow_up in follow_ups:
            if follow_up.kind == "task":
                celery_app.send_task(
                    RUN_STEP,
                    args=[follow_up.name, follow_up.payload],
                    task_id=follow_up.id,
                    # A short argsrepr (shown by monitoring tools) spares Celery a saferepr
                    # of the whole payload on every send.
                    argsrepr=f"[{follow_up.name!r}, {process_id!r}]",
                    kwargsrepr="{}",
                )
        published: list[str] = []
        for follow_up in follow_ups:
            if follow_up.kind != "task":
                if follow_up.id not in self._published_here:
                    self.publish(follow_up.payload)
                    self._remember(follow_up.id)
                published.append(follow_up.id)
        return published

    def _remember(self, follow_up_id: str) -> None:
        with self._lock:
            self._published_here[follow_up_id] = None
            if len(self._published_here) > REMEMBERED_EVENTS:
                self._published_here.popitem(last=False)

    def publish(self, envelope: dict[str, Any]) -> None:
        """Append the event to the stream (once per event id) and queue one delivery per
        webhook subscriber, unless an earlier publish did. Raises `ServiceUnavailable` when the
        stream does not answer."""
        mark = self._stream.publish(envelope)
        if mark is None:  # appended now, not already there
            monitoring.event_appended(envelope)
        if not self._webhook_urls or mark == DELIVERIES_QUEUED:
            return
        # Also when the stream had the event already: its publisher may have died before
        # queueing the deliveries (subscribers drop a repeat by the event id).
        for url in self._webhook_urls:
            celery_app.send_task(DELIVER_WEBHOOK, args=[url, envelope])
        self._stream.mark(envelope["id"], DELIVERIES_QUEUED)


@cache
def configured() -> Dispatcher:
    """The dispatcher the environment's settings describe, one per process."""
    return Dispatcher(wiring.stream(), wiring.settings().webhook_urls)


def dispatch(process_id: str, follow_ups: list[FollowUp]) -> list[str]:
    """Dispatch with the environment's settings (see `Dispatcher`)."""
    return configured()(process_id, follow_ups)
