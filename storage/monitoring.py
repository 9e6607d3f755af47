"""Tell the service about MongoDB failures.

Two sources, neither on the path of each command: the client's periodic heartbeats (a
listener, for clients made after `watch_failures`; each process makes its own, lazily:
storage/mongo.py), and the errors that reach a request or a task, which their handlers pass
to `count_failure`. pymongo's command and connection-pool listeners would see every failure
as it happens, but once any is registered every command builds and publishes its events, about
a sixth of each command's CPU in the client: too much to count what is rare.
"""

from __future__ import annotations

from collections.abc import Callable

from pymongo import monitoring
from pymongo.errors import AutoReconnect, ConnectionFailure

_watching: list[Callable[[str], None]] = []


class _FailedHeartbeats(monitoring.ServerHeartbeatListener):
    """Calls `on_failure("heartbeat")` for every heartbeat the server did not answer."""

    def __init__(self, on_failure: Callable[[str], None]) -> None:
        self._on_failure = on_failure

    def failed(self, event: monitoring.ServerHeartbeatFailedEvent) -> None:
        self._on_failure("heartbeat")

    def started(self, event: monitoring.ServerHeartbeatStartedEvent) -> None: ...
    def succeeded(self, event: monitoring.ServerHeartbeatSucceededEvent) -> None: ...


def watch_failures(on_failure: Callable[[str], None]) -> None:
    """Call `on_failure(kind)` on MongoDB failures from now on: "heartbeat" from the clients
    made from now on, "connection" and "command" from `count_failure` (once per process,
    however often it is asked)."""
    if _watching:
        return
    _watching.append(on_failure)
    monitoring.register(_FailedHeartbeats(on_failure))


def count_failure(error: BaseException) -> None:
    """Count a MongoDB error that reached a request or a task: "connection" when the server
    could not be reached, "command" otherwise."""
    kind = "connection" if isinstance(error, ConnectionFailure | AutoReconnect) else "command"
    for on_failure in _watching:
        on_failure(kind)
