"""Domain events in the envelope consumers of the existing Processes API already read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from machines.model import Actor, FollowUp

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


def event(
    event_type: str,
    entity_id: str,
    *,
    old_data: dict[str, Any] | None,
    new_data: dict[str, Any] | None,
    actor: Actor | None,
    correlation_id: str,
    now: datetime,
) -> FollowUp:
    """An event to publish once the change that raised it is stored; `actor` None means the
    system raised it on its own."""
    user = actor or SYSTEM_USER
    envelope = {
        "id": str(uuid.uuid4()),
        "eventType": event_type,
        "sourceDomain": SOURCE_DOMAIN,
        "sourceSystem": SOURCE_SYSTEM,
        "version": "v1",
        "correlationId": correlation_id,
        "dateTime": now.isoformat().replace("+00:00", "Z"),
        "user": {"name": user.get("name"), "email": user.get("email")},
        "entityId": entity_id,
        "eventData": {"oldData": old_data or {}, "newData": new_data or {}},
    }
    return FollowUp(kind="event", name=event_type, payload=envelope, created_at=now)
