"""A queued automated step runs exactly once for the state it was queued for, whatever else
changes the case while it waits or runs (edits, uploads, removals), and a step left without
a task is queued again by the sweep."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from adapters.http_services import HttpPersons, HttpTenures
from machines.model import FollowUp
from machines.ports import Ports, Record
from services import automation, housekeeping
from services.context import Context
from tests.api.test_documents import PDF_BYTES
from tests.services.test_steps_over_http import TOKEN, ports_for, queued_step
from tests.support import BASE

EVIDENCE = "5658204f-f8f4-44c4-ad11-3345d295ac33"  # a document in the evidence store


def url(process: dict[str, Any], suffix: str = "") -> str:
    return f"{BASE}/{process['processName']}/{process['id']}{suffix}"


def edit_upload_and_remove(client, process: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """What an officer may do to a case while its step waits: each change bumps its version."""
    edited = client.patch(url(process), json={"processData": {"documents": [EVIDENCE]}})
    assert edited.status_code == 200, edited.get_json()
    uploaded = client.post(
        url(process, "/documents"),
        data={"file": (io.BytesIO(PDF_BYTES), "id.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    removed = client.delete(url(process, f"/documents/{uploaded.get_json()['id']}"))
    assert removed.status_code == 204, removed.get_json()


def test_step_queued_before_edits_uploads_and_removals_still_runs(
    client, app, dispatched, fake_services
):
    """Three changes land while the eligibility check waits; it then runs, once, and moves
    the case on, and no task is left behind in the outbox."""
    process, task = queued_step(client, app, dispatched, fake_services)
    edit_upload_and_remove(client, process)
    repo = app.extensions["repository"]()
    assert repo.get(process["id"]).version == 4

    done = automation.run_step(
        repo, task.name, task.payload, ports_for(fake_services), Context(), lambda *_: []
    )
    again = automation.run_step(
        repo, task.name, task.payload, ports_for(fake_services), Context(), lambda *_: []
    )

    assert done is not None
    assert done.state == "AutomatedChecksPassed"
    assert again is None  # a second delivery of the same task does nothing
    stored = repo.get(process["id"])
    assert [e.state for e in stored.states].count("AutomatedChecksPassed") == 1
    assert stored.previous_states[-1].documents == [EVIDENCE]  # the edit is kept
    assert [f.kind for f in stored.outbox if f.kind == "task"] == []


class EditWhileReading:
    """Tenures that, the first time the step reads one, let an officer edit the case."""

    def __init__(self, inner: HttpTenures, edit: Any) -> None:
        self.inner, self.edit, self.reads = inner, edit, 0

    def get(self, tenure_id: str) -> Record:
        self.reads += 1
        if self.reads == 1:
            self.edit()
        return self.inner.get(tenure_id)

    def end(self, tenure_id: str, end_date: str) -> None:
        self.inner.end(tenure_id, end_date)

    def create(self, tenure: Record) -> Record:
        return self.inner.create(tenure)


def test_step_runs_again_on_what_an_edit_made_while_it_ran(client, app, dispatched, fake_services):
    """An edit stored between the step's read and its outcome's write is not lost and does
    not strand the case: the step runs again on the edited case and its outcome is stored."""
    process, task = queued_step(client, app, dispatched, fake_services)
    repo = app.extensions["repository"]()

    def edit() -> None:
        response = client.patch(url(process), json={"assignment": {"patch": "patch2"}})
        assert response.status_code == 200

    tenures = EditWhileReading(HttpTenures(fake_services.url, TOKEN, timeout=2.0), edit)
    ports = Ports(tenures=tenures, persons=HttpPersons(fake_services.url, TOKEN, timeout=2.0))

    done = automation.run_step(repo, task.name, task.payload, ports, Context(), lambda *_: [])

    assert done is not None
    assert done.state == "AutomatedChecksPassed"
    assert tenures.reads == 2
    assert done.previous_states[-1].assignment["patch"] == "patch2"


def test_retry_makes_the_first_task_of_a_failed_step_stale(client, app, dispatched, fake_services):
    """After a failure and a retry, a late copy of the first task does nothing; the retried
    task runs the step."""
    process, task = queued_step(client, app, dispatched, fake_services)
    repo = app.extensions["repository"]()
    automation.record_failure(repo, task.payload, "The Tenure API refused.", Context(), dispatch)
    retried = client.post(url(process, "/automation/retry"))
    assert retried.status_code == 202, retried.get_json()
    (new_task,) = [
        f for f in dispatched.for_process(process["id"]) if f.kind == "task" and f is not task
    ]

    stale = automation.run_step(
        repo, task.name, task.payload, ports_for(fake_services), Context(), lambda *_: []
    )
    done = automation.run_step(
        repo, new_task.name, new_task.payload, ports_for(fake_services), Context(), lambda *_: []
    )

    assert stale is None
    assert done is not None
    assert done.state == "AutomatedChecksPassed"


def dispatch(process_id: str, follow_ups: list[FollowUp]) -> list[str]:
    """Publishes nothing; reports the events as published, as the real dispatcher would."""
    return [f.id for f in follow_ups if f.kind == "event"]


def test_sweep_queues_again_a_step_whose_task_was_lost(client, app, dispatched, fake_services):
    """A case that shows its step queued but has no task for it gets one from the sweep, for
    the same automation, and that task runs the step."""
    process, task = queued_step(client, app, dispatched, fake_services)
    repo = app.extensions["repository"]()
    repo.remove_follow_ups(process["id"], [task.id])  # as if a restored backup had lost it
    requeued: list[FollowUp] = []

    def record(process_id: str, follow_ups: list[FollowUp]) -> list[str]:
        requeued.extend(f for f in follow_ups if f.kind == "task")
        return dispatch(process_id, follow_ups)

    count = housekeeping.requeue_stranded_steps(repo, timedelta(0), record)

    assert count == 1
    (again,) = requeued
    assert again.payload["automationId"] == task.payload["automationId"]
    assert again.payload["actor"]["name"] == "Test Officer"  # events name the officer
    stored = repo.get(process["id"])
    assert [a.kind for a in stored.activity][-1] == "AutomationRequeued"
    done = automation.run_step(
        repo, again.name, again.payload, ports_for(fake_services), Context(), lambda *_: []
    )
    assert done is not None
    assert done.state == "AutomatedChecksPassed"
    assert [f for f in repo.get(process["id"]).outbox if f.kind == "task"] == []


def test_sweep_leaves_alone_steps_whose_task_is_on_its_way(client, app, dispatched, fake_services):
    """A queued step with its task still in the outbox (the worker is busy or down) is not
    queued twice by this sweep: the outbox sweep already hands that task on again."""
    process, _ = queued_step(client, app, dispatched, fake_services)
    repo = app.extensions["repository"]()

    assert housekeeping.requeue_stranded_steps(repo, timedelta(0), dispatch) == 0
    assert repo.get(process["id"]).version == 1


def test_sweep_waits_for_the_grace_period(client, app, dispatched, fake_services):
    """A step queued moments ago is left alone even without a task: its change may still be
    handing it on."""
    process, task = queued_step(client, app, dispatched, fake_services)
    repo = app.extensions["repository"]()
    repo.remove_follow_ups(process["id"], [task.id])

    assert housekeeping.requeue_stranded_steps(repo, timedelta(minutes=5), dispatch) == 0
