"""What leaves the outbox, and when: a published event with the process's next change, in the
same write; a step with the save of its outcome; anything else waits for the sweep."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from machines.model import FollowUp, Process, StateEntry
from services.commit import commit
from services.outbox import hand_on
from tests.fakes import FakeProcessRepository, RecordingDispatch

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def stored_with(repo: FakeProcessRepository, *follow_ups: FollowUp) -> Process:
    """A stored process whose first change left `follow_ups` in its outbox."""
    entry = StateEntry("EnterNewName", [], {}, {}, [], "startApplication", None, NOW, NOW)
    process = Process(
        str(uuid.uuid4()), "changeofname", str(uuid.uuid4()), "person", [], entry, [], 1, NOW, NOW
    )
    process.follow_ups = list(follow_ups)
    repo.add(process)
    return process


def changed(repo: FakeProcessRepository, process_id: str, *follow_ups: FollowUp) -> Process:
    """The process as loaded, with a change that adds `follow_ups`."""
    process = repo.get(process_id)
    process.record("Edited", None, NOW)
    process.follow_ups = list(follow_ups)
    return process


def event(name: str) -> FollowUp:
    return FollowUp("event", name, {"id": str(uuid.uuid4()), "eventType": name}, NOW)


def step(name: str) -> FollowUp:
    return FollowUp("task", name, {"processId": "p"}, NOW)


def outbox(repo: FakeProcessRepository, process: Process) -> list[str]:
    return [f.name for f in repo.outbox(process.id)]


def test_published_events_stay_until_the_next_change_drops_them_in_its_own_write():
    repo, dispatch = FakeProcessRepository(), RecordingDispatch()
    started, queued = event("ProcessStartedEvent"), step("check_tenure_active")
    process = stored_with(repo, started, queued)
    hand_on(process, dispatch)
    assert outbox(repo, process) == ["ProcessStartedEvent", "check_tenure_active"]

    commit(repo, changed(repo, process.id, event("ProcessUpdatedEvent")), dispatch)

    assert outbox(repo, process) == ["check_tenure_active", "ProcessUpdatedEvent"]
    assert repo.saves == 1  # the change and the outbox's removal were one write
    assert dispatch.names() == [
        "ProcessStartedEvent",
        "check_tenure_active",
        "ProcessUpdatedEvent",
    ]


def test_events_never_published_are_published_before_the_next_change_drops_them():
    repo, dispatch = FakeProcessRepository(), RecordingDispatch()
    process = stored_with(repo, event("ProcessStartedEvent"))  # its API died before publishing

    commit(repo, changed(repo, process.id, event("ProcessUpdatedEvent")), dispatch)

    assert dispatch.names() == ["ProcessStartedEvent", "ProcessUpdatedEvent"]  # in order
    assert outbox(repo, process) == ["ProcessUpdatedEvent"]


def test_while_the_stream_is_away_every_event_stays_in_the_outbox():
    repo = FakeProcessRepository()
    process = stored_with(repo, event("ProcessStartedEvent"), step("check_tenure_active"))
    hand_on(process, RecordingDispatch(fail=True))

    commit(
        repo, changed(repo, process.id, event("ProcessUpdatedEvent")), RecordingDispatch(fail=True)
    )

    assert outbox(repo, process) == [
        "ProcessStartedEvent",
        "check_tenure_active",
        "ProcessUpdatedEvent",
    ]
    assert repo.get(process.id).version == 1  # the change itself is stored


def test_only_what_the_dispatcher_confirms_is_dropped():
    repo = FakeProcessRepository()
    confirmed, unconfirmed = event("ProcessStartedEvent"), event("ProcessUpdatedEvent")
    process = stored_with(repo, confirmed, unconfirmed)

    commit(repo, changed(repo, process.id), lambda _id, items: [confirmed.id])

    assert outbox(repo, process) == ["ProcessUpdatedEvent"]
