"""Periodic jobs on the real store: follow-ups a crash left behind, and overdue cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from machines.model import FollowUp
from machines.steps import StepResult
from services import housekeeping, outbox
from services.automation import complete_step
from services.context import Context, now
from services.events import SYSTEM_USER
from tests.support import fire, new_id, start


def failing_dispatch(*_: object) -> None:
    raise ConnectionError("broker down")


def test_follow_ups_left_by_a_failed_dispatch_are_sent_by_the_sweep(app, client):
    """When the broker was down, the outbox keeps the follow-ups until the sweep sends them."""
    app.extensions["dispatch"] = failing_dispatch
    process = start(client, "soletojoint")
    assert fire(client, process, "CancelProcess", {"comment": "Withdrawn"}).status_code == 200
    repo = app.extensions["repository"]()
    left = list(repo.pending_follow_ups(now() + timedelta(seconds=1)))
    assert [f.name for _, f in left] == [
        "ProcessStartedEvent",
        "ProcessStartedAgainstTenureEvent",
        "ProcessClosedEvent",
    ]

    assert outbox.sweep(repo, timedelta(seconds=-1), failing_dispatch) == 0
    assert len(list(repo.pending_follow_ups(now() + timedelta(days=1)))) == 3

    sent: list[tuple[str, FollowUp]] = []

    def publish(process_id: str, follow_ups: list[FollowUp]) -> list[str]:
        sent.extend((process_id, f) for f in follow_ups)
        return [f.id for f in follow_ups]

    assert outbox.sweep(repo, timedelta(seconds=-1), publish) == 3
    assert [f.id for _, f in sent] == [f.id for _, f in left]
    # Events the stream took leave the outbox.
    assert list(repo.pending_follow_ups(now() + timedelta(days=1))) == []


def test_the_sweep_drops_published_events_from_many_outboxes_in_batches(app, client, monkeypatch):
    """Each process's last change leaves its published events for the next change or the sweep;
    the sweep checks them with the stream and removes them, many processes per round trip."""
    monkeypatch.setattr(outbox, "SWEEP_BATCH", 4)
    for _ in range(10):
        start(client, "changeofname")
    repo = app.extensions["repository"]()
    assert len(list(repo.pending_follow_ups(now() + timedelta(days=1)))) == 20

    checked: list[str] = []

    def stream_has_them(process_id: str, follow_ups: list[FollowUp]) -> list[str]:
        checked.extend(f.id for f in follow_ups)
        return [f.id for f in follow_ups]

    assert outbox.sweep(repo, timedelta(seconds=-1), stream_has_them, limit=7) == 14
    assert len(list(repo.pending_follow_ups(now() + timedelta(days=1)))) == 6
    assert outbox.sweep(repo, timedelta(seconds=-1), stream_has_them) == 6
    assert list(repo.pending_follow_ups(now() + timedelta(days=1))) == []
    assert len(set(checked)) == 20


def test_sweep_leaves_fresh_follow_ups_and_keeps_what_it_could_not_send(app, client):
    """Recent follow-ups are not swept (their request may still send them); failed sends stay."""
    app.extensions["dispatch"] = failing_dispatch
    process = start(client, "changeofname")
    repo = app.extensions["repository"]()

    assert outbox.sweep(repo, timedelta(minutes=5), lambda *_: None) == 0
    assert outbox.sweep(repo, timedelta(seconds=-1), failing_dispatch) == 0
    assert len(list(repo.pending_follow_ups(now() + timedelta(seconds=1)))) == 2
    assert process["id"]


def test_overdue_cases_are_flagged_once_with_an_event(client, app, dispatched):
    """A state past its time limit is flagged overdue and ProcessOverdue is published once."""
    process = start(client, "changeofname")
    for trigger, form in [
        ("EnterNewName", {"title": "Mr", "firstName": "Al", "surname": "Li"}),
        ("RequestDocumentsDes", {}),
        (
            "ReviewDocuments",
            {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
        ),
        ("SubmitApplication", {}),
    ]:
        assert fire(client, process, trigger, form, [new_id()]).status_code == 200
    repo = app.extensions["repository"]()
    due = repo.get(process["id"]).current_state.due_at
    assert due is not None
    assert timedelta(days=4) < due - now() <= timedelta(days=5)

    record = app.extensions["dispatch"]
    assert housekeeping.mark_overdue(repo, record, at=due - timedelta(seconds=1)) == 0
    assert housekeeping.mark_overdue(repo, record, at=due + timedelta(seconds=1)) == 1
    assert housekeeping.mark_overdue(repo, record, at=due + timedelta(days=1)) == 0

    assert repo.get(process["id"]).current_state.overdue is True
    assert dispatched.names().count("ProcessOverdue") == 1
    (overdue,) = [f for f in dispatched.for_process(process["id"]) if f.name == "ProcessOverdue"]
    assert overdue.payload["user"] == SYSTEM_USER  # raised by the system, which is named


def test_a_failed_case_left_alone_is_closed_when_its_time_runs_out(client, app, dispatched):
    """Where the definition says so, an overdue state fires its trigger, with the reason kept."""
    process = start(client, "soletojoint")
    repo = app.extensions["repository"]()
    fire(
        client,
        process,
        "CheckAutomatedEligibility",
        {"incomingTenantId": "6b2b4b8e-2a4f-4f0e-9a43-5f1d0c3e7a11"},
    )
    stored = repo.get(process["id"])
    complete_step(
        repo, stored, stored.state, StepResult("EligibilityFailed"), Context(), lambda *_: None
    )
    due = repo.get(process["id"]).current_state.due_at
    assert due is not None

    assert (
        housekeeping.mark_overdue(repo, app.extensions["dispatch"], at=due + timedelta(minutes=1))
        == 1
    )

    closed = repo.get(process["id"])
    assert closed.state == "ProcessClosed"
    assert closed.previous_states[-1].overdue is True
    assert (
        "no action in AutomatedChecksFailed for 30 days"
        in closed.current_state.form_data["reason"]
    )
    assert {"ProcessOverdue", "ProcessClosedEvent"} <= set(dispatched.names())


@pytest.mark.parametrize(
    ("booked", "reminder"),
    [
        ("2027-01-15T10:00:00", datetime(2027, 1, 14, 10, 0, tzinfo=UTC)),  # GMT
        ("2027-07-15T10:00:00", datetime(2027, 7, 14, 9, 0, tzinfo=UTC)),  # BST
        ("2027-07-15T10:00:00+02:00", datetime(2027, 7, 14, 8, 0, tzinfo=UTC)),
    ],
)
def test_appointment_reminder_is_sent_once_a_day_ahead(
    client, app, dispatched, booked: str, reminder: datetime
):
    """An appointment gets one AppointmentReminder 24 h before it, local time understood."""
    process = start(client, "changeofname")
    fire(client, process, "EnterNewName", {"title": "Mr", "firstName": "Al", "surname": "Li"})
    fire(client, process, "RequestDocumentsAppointment", {"appointmentDateTime": booked})
    repo = app.extensions["repository"]()
    assert repo.get(process["id"]).current_state.reminder_at == reminder

    record = app.extensions["dispatch"]
    assert housekeeping.send_reminders(repo, record, at=reminder - timedelta(seconds=1)) == 0
    assert housekeeping.send_reminders(repo, record, at=reminder) == 1
    assert housekeeping.send_reminders(repo, record, at=reminder + timedelta(hours=1)) == 0

    (sent,) = [f for f in dispatched.for_process(process["id"]) if f.name == "AppointmentReminder"]
    assert sent.payload["eventData"]["newData"]["appointmentDateTime"] == booked


def test_an_appointment_already_close_gets_no_late_reminder(client, app):
    """Booking an appointment less than a day ahead schedules no reminder in the past."""
    process = start(client, "changeofname")
    fire(client, process, "EnterNewName", {"title": "Mr", "firstName": "Al", "surname": "Li"})
    soon = (now() + timedelta(hours=2)).isoformat()
    fire(client, process, "RequestDocumentsAppointment", {"appointmentDateTime": soon})
    assert app.extensions["repository"]().get(process["id"]).current_state.reminder_at is None
