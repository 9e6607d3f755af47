"""ProcessRepository on the real MongoDB-compatible server, a throwaway database per test."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from machines.errors import ProcessNotFound, StaleProcess
from machines.model import FollowUp, Process, StateEntry
from storage import ProcessRepository
from storage.processes import INDEXES
from tests.storage.conftest import Watched

T0 = datetime(2026, 5, 4, 12, 30, 15, 123000, tzinfo=UTC)


def entry(state: str, moment: datetime, **overrides: Any) -> StateEntry:
    values: dict[str, Any] = {
        "state": state,
        "permitted_triggers": ["Next"],
        "assignment": {"patch": "patch1", "officerName": "Jo"},
        "form_data": {"br11": "true", "nested": {"list": [1, 2, {"x": None}]}},
        "documents": [str(uuid.uuid4())],
        "trigger": "Go",
        "acted_by": {"id": "u1", "name": "Jo Bloggs", "email": "jo@example.org"},
        "created_at": moment,
        "updated_at": moment,
        "due_at": moment + timedelta(days=2),
    }
    values.update(overrides)
    return StateEntry(**values)


def make_process(
    target_id: str | None = None, created_at: datetime = T0, **overrides: Any
) -> Process:
    """A process two states in, with every field filled."""
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "process_name": "soletojoint",
        "target_id": target_id or str(uuid.uuid4()),
        "target_type": "tenure",
        "related_entities": [
            {"id": str(uuid.uuid4()), "targetType": "person", "subType": "tenant"}
        ],
        "current_state": entry("SelectTenants", created_at),
        "previous_states": [
            entry("ApplicationInitialised", created_at, trigger=None, due_at=None)
        ],
        "definition_version": 1,
        "created_at": created_at,
        "updated_at": created_at,
        "created_by": {"id": "u1", "name": "Jo Bloggs", "email": "jo@example.org"},
    }
    values.update(overrides)
    return Process(**values)


def follow_up(name: str, moment: datetime = T0) -> FollowUp:
    return FollowUp(
        kind="event", name=name, payload={"name": name, "n": [1, 2]}, created_at=moment
    )


@pytest.fixture
def repo(db: Database) -> ProcessRepository:
    repository = ProcessRepository(db)
    repository.create_indexes()
    return repository


def test_add_get_round_trip_keeps_every_field(repo: ProcessRepository):
    """A stored process reads back identical, with timezone-aware datetimes."""
    process = make_process()
    expected = copy.deepcopy(process)
    repo.add(process)
    loaded = repo.get(process.id)
    assert loaded == expected
    for moment in (
        loaded.created_at,
        loaded.updated_at,
        loaded.current_state.created_at,
        loaded.current_state.due_at,
        loaded.previous_states[0].updated_at,
    ):
        assert moment is not None
        assert moment.utcoffset() == timedelta(0)


def test_get_unknown_id_raises_not_found(repo: ProcessRepository):
    """Reading an id nobody stored raises ProcessNotFound."""
    with pytest.raises(ProcessNotFound):
        repo.get(str(uuid.uuid4()))


def test_get_does_not_return_outbox(repo: ProcessRepository):
    """Follow-ups stored with a process are not loaded back as new follow-ups."""
    process = make_process(follow_ups=[follow_up("ProcessStartedEvent")])
    repo.add(process)
    assert repo.get(process.id).follow_ups == []


def test_save_first_of_two_copies_wins(repo: ProcessRepository):
    """Of two copies read at one version, the first save wins and the second stores nothing."""
    process_id = make_process().id
    repo.add(make_process(id=process_id))
    first, second = repo.get(process_id), repo.get(process_id)
    first.enter(entry("AutomatedChecksInProgress", T0 + timedelta(seconds=1)))
    first.add_follow_up(follow_up("first"))
    second.enter(entry("ProcessCancelled", T0 + timedelta(seconds=2)))
    second.add_follow_up(follow_up("second"))
    second.related_entities.append({"id": "lost", "targetType": "asset"})

    repo.save(first)
    with pytest.raises(StaleProcess):
        repo.save(second)

    stored = repo.get(process_id)
    assert stored.version == 1
    assert [s.state for s in stored.states] == [
        "ApplicationInitialised",
        "SelectTenants",
        "AutomatedChecksInProgress",
    ]
    assert {"id": "lost", "targetType": "asset"} not in stored.related_entities
    pending = [
        f.name for pid, f in repo.pending_follow_ups(T0 + timedelta(days=1)) if pid == process_id
    ]
    assert pending == ["first"]


def test_save_missing_process_raises_not_found(repo: ProcessRepository):
    """Saving a process that was never added is reported as not found, not as stale."""
    with pytest.raises(ProcessNotFound):
        repo.save(make_process())


def test_save_increments_version_and_keeps_fields(repo: ProcessRepository):
    """A save bumps the version by one and the new current state reads back as written."""
    process = make_process()
    repo.add(process)
    new_entry = entry("AutomatedChecksInProgress", T0 + timedelta(seconds=5), form_data={"a": 1})
    process.enter(new_entry)
    process.related_entities.append(
        {"id": "x", "targetType": "person", "subType": "householdMember"}
    )
    repo.save(process)
    assert process.version == 1
    loaded = repo.get(process.id)
    assert loaded.version == 1
    assert loaded.current_state == new_entry
    assert loaded.updated_at == new_entry.created_at
    assert loaded.related_entities == process.related_entities


def test_save_appends_history_without_rewriting_it(repo: ProcessRepository, db: Database):
    """Earlier states are appended to, never rewritten by a later save."""
    process = make_process()
    repo.add(process)
    original_first = copy.deepcopy(process.previous_states[0])
    process.previous_states[0].form_data = {"tampered": True}
    process.enter(entry("AutomatedChecksInProgress", T0 + timedelta(seconds=1)))
    repo.save(process)
    process.enter(entry("AutomatedChecksPassed", T0 + timedelta(seconds=2)))
    repo.save(process)

    loaded = repo.get(process.id)
    assert loaded.previous_states[0] == original_first
    assert [s.state for s in loaded.states] == [
        "ApplicationInitialised",
        "SelectTenants",
        "AutomatedChecksInProgress",
        "AutomatedChecksPassed",
    ]
    raw = db["processes"].find_one({"_id": process.id})
    assert raw is not None
    assert len(raw["previousStates"]) == 3


def test_list_by_target_newest_first_with_continuation(repo: ProcessRepository):
    """Listing returns a target's processes newest first and continues after a (createdAt, id)."""
    target = str(uuid.uuid4())
    stored = []
    for i in range(7):
        # Pairs of processes share a creation time, so the id has to break the tie.
        process = make_process(target, created_at=T0 + timedelta(seconds=i // 2))
        repo.add(process)
        stored.append(process)
    repo.add(make_process())  # another target's process is never listed
    expected = [p.id for p in sorted(stored, key=lambda p: (p.created_at, p.id), reverse=True)]

    everything = repo.list_by_target(target, 100)
    assert [p.id for p in everything] == expected

    seen: list[str] = []
    after = None
    while True:
        page = repo.list_by_target(target, 3, after)
        if not page:
            break
        seen.extend(p.id for p in page)
        after = (page[-1].created_at, page[-1].id)
    assert seen == expected


def test_list_by_target_unknown_target_is_empty(repo: ProcessRepository):
    """A target with no processes lists nothing."""
    assert repo.list_by_target(str(uuid.uuid4()), 10) == []


def test_create_indexes_is_idempotent(repo: ProcessRepository, db: Database):
    """The query indexes exist after start-up and creating them again changes nothing."""
    names = {index.document["name"] for index in INDEXES}
    before = db["processes"].index_information()
    assert names <= set(before)
    assert before["by_target_newest_first"]["key"] == [
        ("targetId", 1),
        ("createdAt", -1),
        ("_id", -1),
    ]
    assert before["by_process_and_state"]["key"] == [("processName", 1), ("currentState.state", 1)]
    assert before["by_patch_recently_updated"]["key"] == [
        ("currentState.assignment.patch", 1),
        ("updatedAt", -1),
    ]
    repo.create_indexes()
    ProcessRepository(db).create_indexes()
    assert db["processes"].index_information() == before


def test_create_indexes_drops_indexes_no_query_needs_any_more(db: Database):
    """An index an earlier version created and nothing uses now is dropped: it costs writes."""
    db["processes"].create_index(
        [("currentState.assignment.patch", 1), ("currentState.state", 1)],
        name="by_patch_and_state",
    )
    ProcessRepository(db).create_indexes()
    names = set(db["processes"].index_information())
    assert "by_patch_and_state" not in names
    assert {index.document["name"] for index in INDEXES} <= names


@pytest.mark.parametrize(
    "continued",
    [
        pytest.param(False, id="first-page"),
        pytest.param(True, id="next-page"),
    ],
)
def test_list_by_target_query_uses_index(watched: Watched, continued: bool):
    """The listing's own query is answered from an index scan, not a collection scan."""
    target = str(uuid.uuid4())
    for i in range(5):
        watched.repo.add(make_process(target, created_at=T0 + timedelta(seconds=i)))
        watched.repo.add(make_process(created_at=T0 + timedelta(seconds=i)))
    after = (T0 + timedelta(seconds=3), str(uuid.uuid4())) if continued else None
    watched.finds.clear()
    watched.repo.list_by_target(target, 3, after)
    (find,) = watched.finds
    stages = watched.stages(find)
    assert "IXSCAN" in stages, stages
    assert "COLLSCAN" not in stages, stages


def test_remove_follow_ups_pulls_only_given_ids(repo: ProcessRepository):
    """Handing on some follow-ups removes exactly those and leaves the rest pending."""
    items = [follow_up(f"e{i}", T0 + timedelta(seconds=i)) for i in range(3)]
    process = make_process(follow_ups=list(items))
    other = make_process(follow_ups=[follow_up("other")])
    repo.add(process)
    repo.add(other)
    repo.remove_follow_ups(process.id, [items[0].id, items[2].id, str(uuid.uuid4())])

    pending = list(repo.pending_follow_ups(T0 + timedelta(days=1)))
    mine = [f for pid, f in pending if pid == process.id]
    assert mine == [items[1]]
    assert [f.name for pid, f in pending if pid == other.id] == ["other"]


def test_remove_follow_ups_with_no_ids_changes_nothing(repo: ProcessRepository):
    """Removing an empty list of follow-ups keeps the outbox as it was."""
    process = make_process(follow_ups=[follow_up("kept")])
    repo.add(process)
    repo.remove_follow_ups(process.id, [])
    assert [f.name for _, f in repo.pending_follow_ups(T0 + timedelta(days=1))] == ["kept"]


def test_pending_follow_ups_only_older_than_cutoff(repo: ProcessRepository):
    """Only follow-ups written before the cut-off are returned as pending."""
    old, new = follow_up("old", T0), follow_up("new", T0 + timedelta(minutes=10))
    process = make_process(follow_ups=[old, new])
    repo.add(process)
    pending = list(repo.pending_follow_ups(T0 + timedelta(minutes=5)))
    assert pending == [(process.id, old)]


def test_save_adds_follow_ups_to_outbox(repo: ProcessRepository):
    """Follow-ups made by a change are stored with it until removed."""
    process = make_process(follow_ups=[follow_up("started")])
    repo.add(process)
    repo.remove_follow_ups(process.id, [process.follow_ups[0].id])
    loaded = repo.get(process.id)
    loaded.enter(entry("AutomatedChecksInProgress", T0 + timedelta(seconds=1)))
    task = FollowUp(kind="task", name="check", payload={"version": 1}, created_at=T0)
    loaded.add_follow_up(task)
    repo.save(loaded)
    assert list(repo.pending_follow_ups(T0 + timedelta(days=1))) == [(process.id, task)]


def test_a_save_drops_the_follow_ups_done_and_adds_its_own_in_one_write(
    repo: ProcessRepository, db: Database
):
    """A change takes the follow-ups known to be done out of the outbox as it adds its own,
    keeping the others, and stores form data that looks like an expression as it is."""
    published, queued = follow_up("published"), FollowUp("task", "check", {"v": 1}, T0)
    process = make_process(follow_ups=[published, queued])
    repo.add(process)

    loaded = repo.get(process.id)
    assert [f.name for f in loaded.outbox] == ["published", "check"]
    form = {"name": "$currentState", "note": {"$literal": 1}, "sum": "$$ROOT"}
    loaded.enter(entry("Next", T0 + timedelta(seconds=1), form_data=form))
    loaded.record("Edited", None, T0)
    loaded.add_follow_up(follow_up("updated"))
    loaded.done.add(published.id)
    repo.save(loaded)

    stored = db["processes"].find_one({"_id": process.id})
    assert [f["name"] for f in stored["outbox"]] == ["check", "updated"]
    assert stored["version"] == 1
    assert stored["currentState"]["processData"]["formData"] == form
    assert [s["state"] for s in stored["previousStates"]] == [
        "ApplicationInitialised",
        "SelectTenants",
    ]
    assert [a["kind"] for a in stored["activity"]] == ["Edited"]
    again = repo.get(process.id)
    assert again.outbox == [queued, loaded.outbox[-1]]
    assert again.done == set()
    assert again.current_state.form_data == form


def test_a_save_that_drops_follow_ups_still_refuses_a_stale_version(repo: ProcessRepository):
    published = follow_up("published")
    process = make_process(follow_ups=[published])
    repo.add(process)
    first, second = repo.get(process.id), repo.get(process.id)
    first.record("Edited", None, T0)
    repo.save(first)

    second.record("Edited", None, T0)
    second.done.add(published.id)
    with pytest.raises(StaleProcess):
        repo.save(second)
    assert [f.name for f in repo.get(process.id).outbox] == ["published"]
