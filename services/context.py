"""Who is acting and when: the context every use case runs in, and If-Match versions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from machines.model import Actor
from services.authorisation import ALLOW_ALL, Policy

ExpectedVersion = int | frozenset[int] | None
"""The version(s) a client's If-Match names; None when it sent none."""


def version_matches(expected: ExpectedVersion, actual: int) -> bool:
    """Whether the stored version satisfies the client's If-Match."""
    if expected is None:
        return True
    if isinstance(expected, int):
        return expected == actual
    return actual in expected


def now() -> datetime:
    """The current UTC time at the millisecond precision MongoDB stores."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Schedule:
    """The council's clock for appointments: its time zone, and how early to remind."""

    local_timezone: str = "Europe/London"
    reminder_hours: float = 24.0


@dataclass(frozen=True)
class Context:
    """Who is acting, what they may do, and the correlation id of their request."""

    actor: Actor | None = None
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    clock: Callable[[], datetime] = now
    groups: frozenset[str] = frozenset()
    policy: Policy = ALLOW_ALL
    on_behalf_of: Actor | None = None
    """For the system's own work (a step): the officer whose request queued it."""
    schedule: Schedule = Schedule()

    @property
    def event_actor(self) -> Actor | None:
        """Whom events name as their user: the actor, else the officer the work is done for
        (None: the system itself, named by `events.SYSTEM_USER`)."""
        return self.actor or self.on_behalf_of
