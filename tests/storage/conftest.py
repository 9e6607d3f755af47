"""A repository whose queries can be inspected: the finds it sent, and their plans."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo import MongoClient, monitoring
from pymongo.database import Database

from settings import Settings
from storage import ProcessRepository


class FindRecorder(monitoring.CommandListener):
    """Keeps the find commands a client sends, so their plans can be asked for."""

    def __init__(self) -> None:
        self.finds: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.finds.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def stages_of(plan: Any) -> list[str]:
    """Every stage name in an explain plan, however deeply nested."""
    found: list[str] = []
    if isinstance(plan, dict):
        if isinstance(plan.get("stage"), str):
            found.append(plan["stage"])
        for value in plan.values():
            found.extend(stages_of(value))
    elif isinstance(plan, list):
        for item in plan:
            found.extend(stages_of(item))
    return found


@dataclass
class Watched:
    """A repository (with its indexes) on the test database, and the finds it sent."""

    repo: ProcessRepository
    finds: list[dict[str, Any]]
    db: Database

    def stages(self, find: dict[str, Any]) -> list[str]:
        """The stages of the plan the store chooses for a recorded find."""
        command = {k: v for k, v in find.items() if k not in ("$db", "lsid", "$clusterTime")}
        plan = self.db.command("explain", command, verbosity="queryPlanner")
        return stages_of(plan["queryPlanner"]["winningPlan"])


@pytest.fixture
def watched(settings: Settings, db: Database) -> Iterator[Watched]:
    recorder = FindRecorder()
    client: MongoClient = MongoClient(
        settings.mongo_uri, tz_aware=True, event_listeners=[recorder]
    )
    try:
        repo = ProcessRepository(client[db.name])
        repo.create_indexes()
        yield Watched(repo, recorder.finds, client[db.name])
    finally:
        client.close()
