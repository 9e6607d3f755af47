"""What leaves the outbox after a change is handed on, and what stays for the sweep."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from machines.model import FollowUp, Process, StateEntry
from services.processes import hand_on
from tests.fakes import FakeProcessRepository

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def stored_with(repo: FakeProcessRepository, *follow_ups: FollowUp) -> Process:
    """A stored process whose last change left `follow_ups` in its outbox."""
    entry = StateEntry("EnterNewName", [], {}, {}, [], "startApplication", None, NOW, NOW)
    process = Process(
        str(uuid.uuid4()), "changeofname", str(uuid.uuid4()), "person", [], entry, [], 1, NOW, NOW
    )
    process.follow_ups = list(follow_ups)
    repo.add(process)
    return process


def event(name: str) -> FollowUp:
    return FollowUp("event", name, {"id": str(uuid.uuid4()), "eventType": name}, NOW)


def step(name: str) -> FollowUp:
    return FollowUp("task", name, {"processId": "p"}, NOW)


def test_events_the_dispatcher_published_leave_the_outbox_and_tasks_stay():
    repo = FakeProcessRepository()
    published, queued = event("ProcessStartedEvent"), step("check_tenure_active")
    process = stored_with(repo, published, queued)

    hand_on(repo, process, lambda _id, items: [f.id for f in items if f.kind == "event"])

    assert [f.id for f in repo.outbox(process.id)] == [queued.id]
    assert process.follow_ups == []


def test_a_dispatcher_that_fails_leaves_everything_for_the_sweep():
    repo = FakeProcessRepository()
    items = (event("ProcessStartedEvent"), step("check_tenure_active"))
    process = stored_with(repo, *items)

    def broken(_id: str, _items: list[FollowUp]) -> list[str]:
        raise ConnectionError("Redis is not answering")

    hand_on(repo, process, broken)

    assert [f.id for f in repo.outbox(process.id)] == [f.id for f in items]


def test_a_store_that_fails_to_forget_leaves_the_published_event_for_the_sweep():
    repo = FakeProcessRepository()
    published = event("ProcessStartedEvent")
    process = stored_with(repo, published)

    def unreachable(_process_id: str, _ids: object) -> None:
        raise TimeoutError("MongoDB is not answering")

    repo.remove_follow_ups = unreachable  # type: ignore[method-assign]
    hand_on(repo, process, lambda _id, items: [f.id for f in items])

    assert [f.id for f in repo.outbox(process.id)] == [published.id]
