"""Counts operators watch (open and overdue cases, failed steps, outboxes), each served by an
index of storage/processes.py, so that computing them every scrape costs little."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from storage.processes import EPOCH

FAILED = "failed"


class OperationsQueries:
    """Read-only counts over the processes collection."""

    def __init__(self, db: Database) -> None:
        self._processes = db["processes"]

    def count_in_states(self, states: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Processes in each (process name, state): one count each on `by_process_and_state`."""
        return {
            (name, state): self._processes.count_documents(
                {"processName": name, "currentState.state": state}
            )
            for name, state in states
        }

    def overdue_by_process(self) -> dict[str, int]:
        """Overdue cases by process name (`by_overdue_soonest_first` finds them)."""
        return self._by_process({"currentState.overdue": True})

    def failed_steps_by_process(self) -> dict[str, int]:
        """Cases whose automated step failed, by process name (`by_automation_waiting_longest`)."""
        return self._by_process({"currentState.automation.status": FAILED})

    def failed_steps(
        self, process_name: str | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Cases whose automated step failed, longest waiting first: id, name, state, step,
        reason and when it failed (at most `limit`)."""
        query: dict[str, Any] = {"currentState.automation.status": FAILED}
        if process_name is not None:
            query["processName"] = process_name
        cursor = (
            self._processes.find(
                query,
                {
                    "processName": 1,
                    "currentState.state": 1,
                    "currentState.automation": 1,
                },
            )
            .sort("currentState.automation.queuedAt", 1)
            .limit(limit)
        )
        return [
            {
                "id": document["_id"],
                "processName": document["processName"],
                "state": document["currentState"]["state"],
                **{
                    key: document["currentState"]["automation"].get(key)
                    for key in ("step", "reason", "failedAt")
                },
            }
            for document in cursor
        ]

    def outbox(self, now: datetime | None = None) -> tuple[dict[str, int], float]:
        """Follow-ups in outboxes by kind, and the age in seconds of the oldest (0 if none).

        Only processes with something in their outbox are read (`by_pending_follow_up`):
        normally those changed in the last minute or so.
        """
        moment = now or datetime.now(UTC)
        pending: dict[str, int] = {}
        oldest: datetime | None = None
        rows = self._processes.aggregate(
            [
                {"$match": {"outbox.createdAt": {"$gte": EPOCH}}},
                {"$project": {"outbox.kind": 1, "outbox.createdAt": 1}},
                {"$unwind": "$outbox"},
                {
                    "$group": {
                        "_id": "$outbox.kind",
                        "count": {"$sum": 1},
                        "oldest": {"$min": "$outbox.createdAt"},
                    }
                },
            ]
        )
        for row in rows:
            pending[str(row["_id"])] = int(row["count"])
            if row["oldest"] is not None and (oldest is None or row["oldest"] < oldest):
                oldest = row["oldest"]
        age = 0.0 if oldest is None else max(0.0, (moment - _aware(oldest)).total_seconds())
        return pending, age

    def _by_process(self, query: dict[str, Any]) -> dict[str, int]:
        rows = self._processes.aggregate(
            [{"$match": query}, {"$group": {"_id": "$processName", "count": {"$sum": 1}}}]
        )
        return {str(row["_id"]): int(row["count"]) for row in rows}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
