"""Domain events in the envelope consumers of the existing Processes API already read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from machines.model import FollowUp
from services.context import Context

SOURCE_DOMAIN = "Processes"
SOURCE_SYSTEM = "ProcessesAPI"

SYSTEM_USER = {"name": "Processes API (automatic)", "email": "processes-api@system.invalid"}
"""The user of events the system raises on its own (beat's deadlines and reminders), so that
consumers that show an author (activity history) have one."""

STARTED_AGAINST = {
    "tenure": "ProcessStartedAgainstTenureEvent",
    "person": "ProcessStartedAgainstPersonEvent",
    "asset": "ProcessStartedAgainstAssetEvent",
}


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, at the millisecond precision the store keeps: the one format
    of every time in events and responses."""
    if moment.utcoffset() != _NO_OFFSET:  # the store's times are UTC already
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


_NO_OFFSET = timedelta(0)


def raised(
    ctx: Context,
    event_type: str,
    entity_id: str,
    *,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    at: datetime,
) -> FollowUp:
    """The event `ctx`'s change raises, to publish once that change is stored. It names the
    request's correlation id, and as its user the actor, the officer the system acts for, or
    the system itself."""
    user = ctx.event_actor or SYSTEM_USER
    envelope = {
        "id": str(uuid.uuid4()),
        "eventType": event_type,
        "sourceDomain": SOURCE_DOMAIN,
        "sourceSystem": SOURCE_SYSTEM,
        "version": "v1",
        "correlationId": ctx.correlation_id,
        "dateTime": iso(at),
        "user": {"name": user.get("name"), "email": user.get("email")},
        "entityId": entity_id,
        "eventData": {"oldData": old or {}, "newData": new or {}},
    }
    return FollowUp(kind="event", name=event_type, payload=envelope, created_at=at)
