"""Tell the service about MongoDB failures, through pymongo's own monitoring events.

The listeners apply to clients made after `watch_failures` (each process makes its own,
lazily: storage/mongo.py), so runtimes call it as they start.
"""

from __future__ import annotations

from collections.abc import Callable

from pymongo import monitoring
from pymongo.monitoring import ConnectionCheckOutFailedReason

_watching: list[Callable[[str], None]] = []


class _Failures(
    monitoring.CommandListener,
    monitoring.ServerHeartbeatListener,
    monitoring.ConnectionPoolListener,
):
    """Calls `on_failure(kind)`: "command", "heartbeat" or "connection"."""

    def __init__(self, on_failure: Callable[[str], None]) -> None:
        self._on_failure = on_failure

    def failed(self, event: object) -> None:
        # CommandFailedEvent and ServerHeartbeatFailedEvent both arrive here.
        heartbeat = isinstance(event, monitoring.ServerHeartbeatFailedEvent)
        self._on_failure("heartbeat" if heartbeat else "command")

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        if event.reason == ConnectionCheckOutFailedReason.CONN_ERROR:
            self._on_failure("connection")

    # The other events say nothing went wrong.
    def started(self, event: object) -> None: ...
    def succeeded(self, event: object) -> None: ...
    def pool_created(self, event: object) -> None: ...
    def pool_ready(self, event: object) -> None: ...
    def pool_cleared(self, event: object) -> None: ...
    def pool_closed(self, event: object) -> None: ...
    def connection_created(self, event: object) -> None: ...
    def connection_ready(self, event: object) -> None: ...
    def connection_closed(self, event: object) -> None: ...
    def connection_check_out_started(self, event: object) -> None: ...
    def connection_checked_out(self, event: object) -> None: ...
    def connection_checked_in(self, event: object) -> None: ...


def watch_failures(on_failure: Callable[[str], None]) -> None:
    """Call `on_failure(kind)` on every MongoDB failure of clients made from now on (once per
    process, however often it is asked)."""
    if _watching:
        return
    _watching.append(on_failure)
    monitoring.register(_Failures(on_failure))
