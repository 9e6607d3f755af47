"""Stages shared by casework processes, written once.

Each function returns the triggers of one stage; a process definition strings them together,
choosing where a stage is entered from. The names of states and triggers are those of the
existing Manage My Home processes, so front ends and event consumers keep working.
"""

from __future__ import annotations

from collections.abc import Iterable

from machines.definition import Trigger, decide, move
from machines.forms import (
    APPOINTMENT,
    BOOLEAN,
    NAME,
    TEXT,
    Schema,
    form,
    must_be_true,
)

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

NOTIFIED = must_be_true("The housing officer must notify the resident before closing this process.")
APPOINTMENT_FORM = form({"appointmentDateTime": APPOINTMENT})
APPOINTMENT_EXAMPLE = {"appointmentDateTime": "2026-12-01T10:30:00"}


def documents(requested_from: Iterable[str], review_form: Schema, review_example: dict) -> list[Trigger]:
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
        move("ReviewDocuments", DOCUMENT_STATES, "DocumentChecksPassed", review_form, review_example),
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
                "TenureInvestigationPassed": _answer("tenureInvestigationRecommendation", "approve"),
                "TenureInvestigationFailed": _answer("tenureInvestigationRecommendation", "decline"),
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


def _answer(key: str, expected: str):  # type: ignore[no-untyped-def]
    """A branch condition: the form's `key` holds `expected`."""

    def answered(form: dict) -> bool:
        return form.get(key) == expected

    answered.__name__ = f"{key}_is_{expected}"
    return answered
