"""What stored processes use of their definitions, and writing a process moved to a new version.

Kept apart from `storage.processes` because only definition checks and migrations need it.
"""

from __future__ import annotations

from typing import Any

from machines.model import Process
from machines.validate import StoredUse
from storage.processes import ProcessRepository


class MigrationRepository(ProcessRepository):
    """The process repository, plus the queries and the write a migration needs."""

    def stored_uses(self, process_name: str | None = None) -> list[StoredUse]:
        """Stored processes counted by type, definition version, current state, the triggers
        that state offered and the automated step it waits for."""
        pipeline: list[dict[str, Any]] = []
        if process_name is not None:
            pipeline.append({"$match": {"processName": process_name}})
        pipeline.append(
            {
                "$group": {
                    "_id": {
                        "name": "$processName",
                        "version": "$definitionVersion",
                        "state": "$currentState.state",
                        "triggers": "$currentState.permittedTriggers",
                        "step": "$currentState.automation.step",
                    },
                    "count": {"$sum": 1},
                }
            }
        )
        uses = []
        for row in self._processes.aggregate(pipeline):
            key = row["_id"]
            uses.append(
                StoredUse(
                    process_name=key["name"],
                    definition_version=key.get("version") or 1,
                    state=key["state"],
                    permitted_triggers=tuple(key.get("triggers") or ()),
                    step=key.get("step"),
                    count=row["count"],
                )
            )
        return sorted(uses, key=lambda u: (u.process_name, u.definition_version, u.state))

    def ids_at_version(self, process_name: str, definition_version: int) -> list[str]:
        """The ids of the processes of this type stored under this definition version."""
        query = {
            "processName": process_name,
            "definitionVersion": _version_filter(definition_version),
        }
        cursor = self._processes.find(query, {"_id": 1}).sort("_id", 1)
        return [document["_id"] for document in cursor]

    def save_migrated(self, process: Process, from_version: int) -> None:
        """Write a migrated process: its current state, new activity and follow-ups and its
        new `definitionVersion`, if nobody changed or migrated it since it was read."""
        self._write_changes(
            process,
            {"definitionVersion": process.definition_version},
            only_if={"definitionVersion": _version_filter(from_version)},
        )


def _version_filter(version: int) -> Any:
    # Processes stored before versions were recorded count as version 1.
    return {"$in": [1, None]} if version == 1 else version
