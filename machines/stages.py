"""Stages shared by casework processes, written once.

Each function returns the triggers of one stage; a process definition strings them together,
choosing where a stage is entered from. The names of states and triggers are those of the
existing Manage My Home processes, so front ends and event consumers keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from machines.definition import Requirement, Trigger, decide, move
from machines.forms import (
    APPOINTMENT,
    BOOLEAN,
    NAME,
    TEXT,
    Schema,
    form,
    must_be_true,
)
from machines.model import Process

CLOSED = "ProcessClosed"
CANCELLED = "ProcessCancelled"
COMPLETED = "ProcessCompleted"

DOCUMENTS_REQUESTED = ("DocumentsRequestedDes", "DocumentsRequestedAppointment")
DOCUMENT_STATES = (*DOCUMENTS_REQUESTED, "DocumentsAppointmentRescheduled")
INVESTIGATION_OUTCOMES = (
    "TenureInvestigationPassed",
    "TenureInvestigationFailed",
    "TenureInvestigationPassedWithInt",
)
INTERVIEW_STATES = ("InterviewScheduled", "InterviewRescheduled")
TENURE_APPOINTMENT_STATES = ("TenureAppointmentScheduled", "TenureAppointmentRescheduled")

AWAITING_APPROVAL = (*INVESTIGATION_OUTCOMES, *INTERVIEW_STATES)
APPROVAL_TEAM = {"team": "area-managers"}
"""Where cases wait for the housing officer's (area manager's) decision."""

NOTIFIED = must_be_true(
    "The housing officer must notify the resident before closing this process."
)
APPOINTMENT_FORM = form({"appointmentDateTime": APPOINTMENT})
APPOINTMENT_EXAMPLE = {"appointmentDateTime": "2026-12-01T10:30:00"}

DOCUMENT_ATTACHED = "DocumentAttached"
DOCUMENT_REMOVED = "DocumentRemoved"
"""Activity kinds recorded when a file is uploaded to, or deleted from, a process."""


def attached_documents(process: Process) -> list[str]:
    """Ids of the documents attached to the process in any state, oldest first.

    Earlier states keep the ids they were entered with, as history; an id whose document was
    deleted since (a `DocumentRemoved` activity) no longer counts, unless the current state
    lists it again.
    """
    removed = {a.details.get("id") for a in process.activity if a.kind == DOCUMENT_REMOVED}
    current = set(process.current_state.documents)
    found: dict[str, None] = {}
    for entry in process.states:
        for document_id in entry.documents:
            if document_id in current or document_id not in removed:
                found.setdefault(document_id)
    return list(found)


def has_documents(process: Process, form: dict) -> bool:
    """Whether at least one document (uploaded, or an external store's id) is attached."""
    return bool(attached_documents(process))


NEEDS_DOCUMENTS = Requirement(
    has_documents, "ReviewDocuments needs at least one attached document.", field="documents"
)


def documents(
    requested_from: Iterable[str], review_form: Schema, review_example: dict
) -> list[Trigger]:
    """Ask for documents (through the evidence store or at an appointment), then review them."""
    requested_from = tuple(requested_from)
    return [
        move("RequestDocumentsDes", requested_from, "DocumentsRequestedDes", form()),
        move(
            "RequestDocumentsAppointment",
            (*requested_from, "DocumentsRequestedDes"),
            "DocumentsRequestedAppointment",
            APPOINTMENT_FORM,
            APPOINTMENT_EXAMPLE,
        ),
        move(
            "RescheduleDocumentsAppointment",
            ("DocumentsRequestedAppointment", "DocumentsAppointmentRescheduled"),
            "DocumentsAppointmentRescheduled",
            APPOINTMENT_FORM,
            APPOINTMENT_EXAMPLE,
        ),
        move(
            "ReviewDocuments",
            DOCUMENT_STATES,
            "DocumentChecksPassed",
            review_form,
            review_example,
            requires=[NEEDS_DOCUMENTS],
        ),
        move("SubmitApplication", "DocumentChecksPassed", "ApplicationSubmitted", form()),
    ]


def tenure_investigation() -> list[Trigger]:
    """The tenure investigator recommends approval, decline or an interview."""
    recommendation = {"enum": ["approve", "decline", "appointment"]}
    return [
        decide(
            "TenureInvestigation",
            "ApplicationSubmitted",
            {
                "TenureInvestigationPassed": _answer(
                    "tenureInvestigationRecommendation", "approve"
                ),
                "TenureInvestigationFailed": _answer(
                    "tenureInvestigationRecommendation", "decline"
                ),
                "TenureInvestigationPassedWithInt": _answer(
                    "tenureInvestigationRecommendation", "appointment"
                ),
            },
            form({"tenureInvestigationRecommendation": recommendation}),
            {"tenureInvestigationRecommendation": "approve"},
        )
    ]


def interview_and_approval() -> list[Trigger]:
    """An optional interview, then the housing officer's (area manager's) decision."""
    decision_form = form(
        {
            "hoRecommendation": {"enum": ["approve", "decline"]},
            "housingAreaManagerName": {**NAME, "minLength": 2},
        },
        {"reason": TEXT},
    )
    return [
        move(
            "ScheduleInterview",
            INVESTIGATION_OUTCOMES,
            "InterviewScheduled",
            APPOINTMENT_FORM,
            APPOINTMENT_EXAMPLE,
        ),
        move(
            "RescheduleInterview",
            INTERVIEW_STATES,
            "InterviewRescheduled",
            APPOINTMENT_FORM,
            APPOINTMENT_EXAMPLE,
        ),
        decide(
            "HOApproval",
            (*INVESTIGATION_OUTCOMES, *INTERVIEW_STATES),
            {
                "HOApprovalPassed": _answer("hoRecommendation", "approve"),
                "HOApprovalFailed": _answer("hoRecommendation", "decline"),
            },
            decision_form,
            {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"},
        ),
    ]


def tenure_appointment() -> list[Trigger]:
    """Book (and rebook) the appointment where the resident signs."""
    return [
        move(
            "ScheduleTenureAppointment",
            "HOApprovalPassed",
            "TenureAppointmentScheduled",
            APPOINTMENT_FORM,
            APPOINTMENT_EXAMPLE,
        ),
        move(
            "RescheduleTenureAppointment",
            TENURE_APPOINTMENT_STATES,
            "TenureAppointmentRescheduled",
            APPOINTMENT_FORM,
            APPOINTMENT_EXAMPLE,
        ),
    ]


def close(from_states: Iterable[str]) -> Trigger:
    """Close a case that cannot go on, once the resident has been told."""
    return move(
        "CloseProcess",
        tuple(from_states),
        CLOSED,
        form({"hasNotifiedResident": NOTIFIED}, {"reason": TEXT}),
        {"hasNotifiedResident": True, "reason": "Not eligible"},
    )


def cancel(from_states: Iterable[str]) -> Trigger:
    """Cancel a case at the resident's or the officer's request, saying why."""
    return move(
        "CancelProcess",
        tuple(from_states),
        CANCELLED,
        form({"comment": {**TEXT, "minLength": 1}}, {"hasNotifiedResident": BOOLEAN}),
        {"comment": "The resident withdrew the application."},
    )


def _answer(key: str, expected: str) -> Callable[[dict], bool]:
    """A branch condition: the form's `key` holds `expected`."""

    def answered(form: dict) -> bool:
        return form.get(key) == expected

    answered.__name__ = f"{key}_is_{expected}"
    return answered
