"""Use cases in services.processes against an in-memory repository we own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from machines.errors import ProcessNotFound
from machines.model import FollowUp, Process
from services import processes
from services.commit import MAX_ATTEMPTS
from services.context import Context
from services.errors import (
    Conflict,
    InvalidInput,
    PreconditionFailed,
    ProcessEnded,
    TriggerNotAllowed,
    UnknownTrigger,
)
from services.paging import PageTokens
from services.processes import NewProcess
from tests.fakes import FakeProcessRepository, RecordingDispatch

TOKENS = PageTokens("a secret key for the pagination tokens of these tests")
NAME_FORM = {"title": "Ms", "firstName": "Patricia", "middleName": "", "surname": "Williams"}


class Clock:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@pytest.fixture
def repo() -> FakeProcessRepository:
    return FakeProcessRepository()


@pytest.fixture
def dispatch() -> RecordingDispatch:
    return RecordingDispatch()


@pytest.fixture
def ctx() -> Context:
    return Context(actor={"name": "Jo Bloggs", "email": "jo@example.org"}, clock=Clock())


def new_process(process_name: str, **overrides: Any) -> NewProcess:
    values: dict[str, Any] = {
        "process_name": process_name,
        "target_id": str(uuid.uuid4()),
        "related_entities": [
            {"id": str(uuid.uuid4()), "targetType": "person", "subType": "tenant"},
        ],
        "assignment": {"patch": "patch1"},
    }
    values.update(overrides)
    return NewProcess(**values)


def ignore(_process_id: str, follow_ups: list[FollowUp]) -> list[str]:
    """A dispatch that queues no step and publishes events where no test looks."""
    return [f.id for f in follow_ups if f.kind == "event"]


def start(repo, ctx, process_name: str = "soletojoint", dispatch=None) -> Process:  # type: ignore[no-untyped-def]
    return processes.start(repo, new_process(process_name), ctx, dispatch or ignore)


@pytest.fixture
def started(repo, ctx) -> Process:  # type: ignore[no-untyped-def]
    """A sole to joint process just started, its start events handed to nobody."""
    return start(repo, ctx)


@pytest.fixture
def submitted(repo, ctx, dispatch) -> Process:  # type: ignore[no-untyped-def]
    """A change of name process whose new name has been entered, its events published (and
    forgotten by `dispatch`, so that a test sees only what it dispatches)."""
    process = start(repo, ctx, "changeofname", dispatch)
    fired = processes.fire(
        repo, "changeofname", process.id, "EnterNewName", dict(NAME_FORM), [], ctx, dispatch
    )
    dispatch.calls.clear()
    return fired


def check_eligibility(repo, ctx, process: Process, dispatch) -> Process:  # type: ignore[no-untyped-def]
    """Send the sole to joint process into its automated eligibility checks."""
    return processes.fire(
        repo,
        "soletojoint",
        process.id,
        "CheckAutomatedEligibility",
        {"incomingTenantId": str(uuid.uuid4())},
        [],
        ctx,
        dispatch,
    )


def reassign(repo, ctx, process: Process, **options: Any) -> Process:  # type: ignore[no-untyped-def]
    """Move the change of name process to patch2, with `options` for `processes.update`."""
    return processes.update(
        repo, "changeofname", process.id, ctx, ignore, assignment={"patch": "patch2"}, **options
    )


def test_start_dispatches_started_events_and_keeps_them_until_done(repo, ctx, dispatch):
    """Starting a tenure process hands on its two start events; they stay in its outbox until
    the workers that publish them take them out."""
    process = start(repo, ctx, "soletojoint", dispatch)
    assert dispatch.names() == ["ProcessStartedEvent", "ProcessStartedAgainstTenureEvent"]
    started, against = dispatch.follow_ups
    assert started.payload["entityId"] == process.id
    assert started.payload["eventData"]["newData"]["state"] == "SelectTenants"
    assert against.payload["entityId"] == process.target_id
    assert against.payload["eventData"]["newData"] == {
        "id": process.id,
        "processName": "soletojoint",
    }
    assert all(f.payload["correlationId"] == ctx.correlation_id for f in dispatch.follow_ups)
    assert [f.id for f in repo.outbox(process.id)] == [started.id, against.id]
    assert repo.get(process.id).state == "SelectTenants"


def test_start_person_process_raises_started_against_person(repo, ctx, dispatch):
    """A change of name process announces itself against the person it is about."""
    process = start(repo, ctx, "changeofname", dispatch)
    assert dispatch.names() == ["ProcessStartedEvent", "ProcessStartedAgainstPersonEvent"]
    assert dispatch.follow_ups[1].payload["entityId"] == process.target_id


def test_start_dispatch_failure_keeps_events_in_outbox(repo, ctx):
    """If the queue is down the process is still created and its events wait in the outbox."""
    process = start(repo, ctx, "soletojoint", RecordingDispatch(fail=True))
    assert repo.get(process.id).state == "SelectTenants"
    assert [f.name for f in repo.outbox(process.id)] == [
        "ProcessStartedEvent",
        "ProcessStartedAgainstTenureEvent",
    ]


def test_start_wrong_target_type_is_unprocessable(repo, ctx):
    """A sole to joint process about a person is refused as unprocessable."""
    with pytest.raises(InvalidInput) as caught:
        processes.start(repo, new_process("soletojoint", target_type="person"), ctx, ignore)
    assert caught.value.unprocessable
    assert [e.field for e in caught.value.errors] == ["targetType"]


def test_fire_into_automated_state_queues_task_naming_state_and_version(
    repo, ctx, dispatch, started
):
    """Entering an automated state queues its step for exactly that state and version."""
    process = check_eligibility(repo, ctx, started, dispatch)
    assert process.state == "AutomatedChecksInProgress"
    tasks = [f for f in dispatch.follow_ups if f.kind == "task"]
    assert len(tasks) == 1
    assert tasks[0].name == "check_sole_to_joint_eligibility"
    payload = tasks[0].payload
    assert payload["processId"] == process.id
    assert payload["processName"] == "soletojoint"
    assert payload["state"] == "AutomatedChecksInProgress"
    assert payload["version"] == repo.get(process.id).version
    assert repo.get(process.id).version == 1


def test_fire_dispatch_failure_keeps_follow_ups_and_succeeds(repo, ctx, started):
    """A trigger whose follow-ups cannot be handed on still moves the process; they stay queued."""
    process = started
    moved = check_eligibility(repo, ctx, process, RecordingDispatch(fail=True))
    assert moved.state == "AutomatedChecksInProgress"
    assert repo.get(process.id).state == "AutomatedChecksInProgress"
    # After the start events (handed on, and in the outbox until a worker has published them).
    left = repo.outbox(process.id)[2:]
    assert [f.kind for f in left] == ["event", "task"]
    assert left[1].payload["state"] == "AutomatedChecksInProgress"


def test_fire_records_state_entry_with_form_actor_and_trigger(repo, ctx, submitted):
    """The state a trigger enters keeps its formData, trigger and acting user in the history."""
    process = submitted
    stored = repo.get(process.id)
    assert [s.state for s in stored.states] == [
        "ApplicationInitialised",
        "EnterNewName",
        "NameSubmitted",
    ]
    entry = stored.current_state
    assert entry.trigger == "EnterNewName"
    assert entry.form_data == NAME_FORM
    assert entry.acted_by == ctx.actor
    assert entry.assignment == {"patch": "patch1"}


def test_fire_internal_trigger_is_unknown(repo, ctx, started):
    """An automated step's outcome cannot be sent by a client."""
    with pytest.raises(UnknownTrigger):
        processes.fire(repo, "soletojoint", started.id, "EligibilityPassed", {}, [], ctx, ignore)


def test_fire_trigger_not_permitted_changes_nothing(repo, ctx, started):
    """A trigger the current state does not allow is refused and nothing is written."""
    with pytest.raises(TriggerNotAllowed) as caught:
        processes.fire(repo, "soletojoint", started.id, "SubmitApplication", {}, [], ctx, ignore)
    assert str(caught.value).startswith("Cannot trigger SubmitApplication from SelectTenants.")
    assert repo.saves == 0
    assert repo.get(started.id).version == 0


def test_fire_unknown_process_id_not_found(repo, ctx):
    """Firing at an id nobody stored raises ProcessNotFound."""
    with pytest.raises(ProcessNotFound):
        processes.fire(
            repo,
            "soletojoint",
            str(uuid.uuid4()),
            "CancelProcess",
            {"comment": "x"},
            [],
            ctx,
            ignore,
        )


def test_get_under_other_process_name_not_found(repo, started):
    """A process is not found under a process name other than its own."""
    with pytest.raises(ProcessNotFound):
        processes.get(repo, "changeofname", started.id)


def test_update_changes_form_data_and_raises_one_event(repo, ctx, dispatch, submitted):
    """Editing the current state's form data merges it, bumps the version and raises one event
    carrying what changed as the state's processData, as the existing API's consumers read it."""
    process = submitted
    updated = processes.update(
        repo,
        "changeofname",
        process.id,
        ctx,
        dispatch,
        form_data={"middleName": "Anne"},
    )
    assert updated.current_state.form_data == {**NAME_FORM, "middleName": "Anne"}
    assert repo.get(process.id).version == 2
    assert dispatch.names() == ["ProcessUpdatedEvent"]
    data = dispatch.follow_ups[0].payload["eventData"]
    assert data["oldData"] == {"processData": {"formData": {"middleName": ""}}}
    assert data["newData"] == {"processData": {"formData": {"middleName": "Anne"}}}


def test_update_without_change_writes_nothing(repo, ctx, dispatch, submitted):
    """Sending the values already stored neither writes nor raises an event."""
    process = submitted
    saves = repo.saves
    same = processes.update(
        repo,
        "changeofname",
        process.id,
        ctx,
        dispatch,
        form_data={"firstName": "Patricia"},
        documents=[],
        assignment={"patch": "patch1"},
    )
    assert same.version == 1
    assert repo.saves == saves
    assert repo.get(process.id).version == 1
    assert dispatch.calls == []


def test_update_merged_form_must_satisfy_entering_schema(repo, ctx, submitted):
    """An edit that would make the state's form invalid for its trigger is refused."""
    process = submitted
    with pytest.raises(InvalidInput) as caught:
        processes.update(repo, "changeofname", process.id, ctx, ignore, form_data={"title": "Sir"})
    assert [e.field for e in caught.value.errors] == ["formData.title"]
    assert repo.get(process.id).current_state.form_data == NAME_FORM


def test_update_on_final_state_raises_process_ended(repo, ctx, submitted):
    """A cancelled process's data can no longer be edited."""
    process = submitted
    processes.fire(
        repo,
        "changeofname",
        process.id,
        "CancelProcess",
        {"comment": "withdrawn"},
        [],
        ctx,
        ignore,
    )
    saves = repo.saves
    with pytest.raises(ProcessEnded):
        reassign(repo, ctx, process)
    assert repo.saves == saves


def test_update_expected_version_mismatch_precondition_failed(repo, ctx, submitted):
    """An edit made against an old version is refused and nothing is written."""
    process = submitted
    with pytest.raises(PreconditionFailed) as caught:
        reassign(repo, ctx, process, expected_version=0)
    assert caught.value.actual == 1
    assert repo.get(process.id).current_state.assignment == {"patch": "patch1"}


def test_fire_expected_version_mismatch_precondition_failed(repo, ctx, submitted):
    """A trigger sent against an old version is refused and the state does not move."""
    process = submitted
    with pytest.raises(PreconditionFailed):
        processes.fire(
            repo,
            "changeofname",
            process.id,
            "RequestDocumentsDes",
            {},
            [],
            ctx,
            ignore,
            expected_version=5,
        )
    assert repo.get(process.id).state == "NameSubmitted"


def test_update_retries_after_concurrent_change_without_losing_it(repo, ctx, dispatch, submitted):
    """Without an expected version a conflicting save is re-applied on top of the winner."""
    process = submitted

    def other_writer(stored: Process) -> None:
        stored.current_state.assignment = {"patch": "patch9"}

    repo.interfere.append(other_writer)
    updated = processes.update(
        repo, "changeofname", process.id, ctx, dispatch, form_data={"middleName": "Anne"}
    )
    assert repo.stale == 1
    stored = repo.get(process.id)
    assert stored.version == 3  # the entry, the other writer's change, this edit
    assert updated.version == 3
    assert stored.current_state.assignment == {"patch": "patch9"}
    assert stored.current_state.form_data["middleName"] == "Anne"
    assert dispatch.names() == ["ProcessUpdatedEvent"]


def test_fire_retries_after_concurrent_change(repo, ctx, dispatch, submitted):
    """A trigger without an expected version survives one concurrent write and is stored once."""
    process = submitted
    repo.interfere.append(lambda stored: None)
    moved = processes.fire(
        repo, "changeofname", process.id, "RequestDocumentsDes", {}, [], ctx, dispatch
    )
    stored = repo.get(process.id)
    assert moved.state == stored.state == "DocumentsRequestedDes"
    assert [s.trigger for s in stored.states].count("RequestDocumentsDes") == 1
    assert len(dispatch.follow_ups) == 1


def test_update_with_expected_version_does_not_retry(repo, ctx, submitted):
    """With an expected version a concurrent write is reported, not silently re-applied."""
    process = submitted
    repo.interfere.append(lambda stored: None)
    with pytest.raises(PreconditionFailed):
        reassign(repo, ctx, process, expected_version=1)
    assert repo.get(process.id).current_state.assignment == {"patch": "patch1"}


def test_update_gives_up_with_conflict_when_always_beaten(repo, ctx, submitted):
    """If every attempt loses to another writer the caller is told to try again."""
    process = submitted
    repo.interfere.extend([lambda stored: None] * MAX_ATTEMPTS)
    with pytest.raises(Conflict):
        reassign(repo, ctx, process)
    assert repo.get(process.id).current_state.assignment == {"patch": "patch1"}


def test_list_for_target_pages_without_dangling_token(repo, ctx):
    """Listing walks a target's processes newest first and the last page has no token."""
    target = str(uuid.uuid4())
    ids = [
        processes.start(repo, new_process("soletojoint", target_id=target), ctx, ignore).id
        for _ in range(5)
    ]
    first = processes.list_for_target(repo, target, 3, None, TOKENS)
    assert [p.id for p in first.processes] == ids[::-1][:3]
    assert first.next_token
    second = processes.list_for_target(repo, target, 3, first.next_token, TOKENS)
    assert [p.id for p in second.processes] == ids[::-1][3:]
    assert second.next_token is None


def test_precondition_failed_after_stale_save_reports_stored_version(repo, ctx, submitted):
    """When a concurrent write wins, the 412 names the version now stored."""
    process = submitted

    def two_other_writes(stored: Process) -> None:
        stored.version += 1  # the fake adds the second

    repo.interfere.append(two_other_writes)
    with pytest.raises(PreconditionFailed) as caught:
        reassign(repo, ctx, process, expected_version=1)
    assert caught.value.actual == repo.get(process.id).version == 3
