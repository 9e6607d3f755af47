"""Test doubles we own, for unit tests of the use-case layer (never for storage or the API)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import bson

from machines.errors import ProcessNotFound, ProcessTooLarge, StaleProcess
from machines.model import FollowUp, Process
from machines.queries import ProcessQuery
from storage.processes import to_document


@dataclass
class _Stored:
    process: Process
    outbox: list[FollowUp] = field(default_factory=list)


class FakeProcessRepository:
    """An in-memory repository with the real one's contract: version-checked saves, an outbox.

    `interfere` is a queue of changes "another writer" makes just before a save, so that save
    finds the stored version moved on and raises `StaleProcess`, as the real store would.
    """

    def __init__(self) -> None:
        self._stored: dict[str, _Stored] = {}
        self.saves = 0
        self.stale = 0
        self.interfere: list[Callable[[Process], None]] = []

    def add(self, process: Process) -> None:
        if process.id in self._stored:
            raise ValueError(f"duplicate id {process.id}")
        stored = copy.deepcopy(process)
        stored.follow_ups = []
        stored.new_states = stored.new_activity = 0
        self._stored[process.id] = _Stored(stored, copy.deepcopy(process.follow_ups))
        process.new_states = process.new_activity = 0
        process.outbox = list(process.follow_ups)

    def get(self, process_id: str) -> Process:
        stored = self._stored.get(process_id)
        if stored is None:
            raise ProcessNotFound(process_id)
        process = copy.deepcopy(stored.process)
        process.outbox = copy.deepcopy(stored.outbox)
        process.done = set()
        return process

    def save(self, process: Process) -> None:
        stored = self._stored.get(process.id)
        if stored is None:
            raise ProcessNotFound(process.id)
        if self.interfere:
            self.interfere.pop(0)(stored.process)
            stored.process.version += 1
        if stored.process.version != process.version:
            self.stale += 1
            raise StaleProcess(process.id, process.version)
        self.saves += 1
        kept = copy.deepcopy(process)
        kept.follow_ups = []
        kept.new_states = kept.new_activity = 0
        kept.version = process.version + 1
        stored.process = kept
        stored.outbox = [f for f in stored.outbox if f.id not in process.done]
        stored.outbox.extend(copy.deepcopy(process.follow_ups))
        process.version += 1
        process.new_states = process.new_activity = 0
        process.outbox = copy.deepcopy(stored.outbox)
        process.done = set()

    def check_size(self, process: Process, budget: int) -> None:
        """The real repository's rule, measured on the whole document the save would store."""
        size = len(bson.encode(to_document(process)))
        stored = self._stored.get(process.id)
        before = len(bson.encode(to_document(stored.process))) if stored else 0
        if size > budget and size > before:
            raise ProcessTooLarge(process.id, size, budget)

    def search(
        self, query: ProcessQuery, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Process]:
        """Newest first by target only: the one listing the use-case tests need."""
        assert query.sort == "createdAt"
        rows = sorted(
            (s.process for s in self._stored.values() if s.process.target_id == query.target_id),
            key=lambda p: (p.created_at, p.id),
            reverse=True,
        )
        if after is not None:
            rows = [p for p in rows if (p.created_at, p.id) < after]
        return [self.get(p.id) for p in rows[:limit]]

    def outbox(self, process_id: str) -> list[FollowUp]:
        """What the store still holds to hand on for `process_id`."""
        return list(self._stored[process_id].outbox)


class RecordingDispatch:
    """A dispatcher that records what it is given, or fails when told to. Like the real one,
    it publishes events in place (reporting them done) and drops an event it published before."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[tuple[str, list[FollowUp]]] = []
        self.published: set[str] = set()

    def __call__(self, process_id: str, follow_ups: list[FollowUp]) -> list[str]:
        if self.fail:
            raise ConnectionError("the queue is not answering")
        new = [f for f in follow_ups if f.id not in self.published]
        if new:
            self.calls.append((process_id, new))
        events = [f.id for f in follow_ups if f.kind == "event"]
        self.published.update(events)
        return events

    @property
    def follow_ups(self) -> list[FollowUp]:
        return [f for _, items in self.calls for f in items]

    def names(self) -> list[str]:
        return [f.name for f in self.follow_ups]
