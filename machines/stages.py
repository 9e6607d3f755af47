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
    NAME,
    TEXT,
    Schema,
    choice,
    field,
    form,
    must_be_true,
    yes_no,
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
OFFICERS = ("housing-officers", "area-managers")
"""Who may send a casework process's triggers: its definitions' `senders`."""
AREA_MANAGERS = ("area-managers",)
"""Who may decide an approval."""
APPROVAL_TEAM = {"team": "area-managers"}
"""Where cases wait for the housing officer's (area manager's) decision."""

NOTIFIED = must_be_true(
    "The housing officer must notify the resident before closing this process.",
    "I confirm that an outcome letter has been sent to the resident",
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


def appointment_form(title: str, label: str = "Date and time of the appointment") -> Schema:
    """A form that books an appointment."""
    when = field(
        APPOINTMENT,
        label,
        "For example, 27 3 2027 and 10 30 for half past ten in the morning",
        "Enter the date and time of the appointment as a real date and time",
    )
    return form({"appointmentDateTime": when}, title=title)


def notes(title: str = "Notes (optional)") -> Schema:
    return field(TEXT, title, error="Notes must be 2,000 characters or fewer")


def has_documents(process: Process, form: dict) -> bool:
    """Whether at least one document (uploaded, or an external store's id) is attached."""
    return bool(attached_documents(process))


NEEDS_DOCUMENTS = Requirement(
    has_documents, "ReviewDocuments needs at least one attached document.", field="documents"
)


def documents(
    requested_from: Iterable[str],
    review_form: Schema,
    review_example: dict,
    *,
    reviewed: str = "DocumentChecksPassed",
    submit_to: str | None = "ApplicationSubmitted",
) -> list[Trigger]:
    """Ask for documents (through the evidence store or at an appointment), then review them.

    The stage is entered from `requested_from` and ends in `reviewed`; from there its own
    SubmitApplication leads to `submit_to`, unless that is None and the process brings the
    trigger that leaves `reviewed` itself.
    """
    requested_from = tuple(requested_from)
    triggers = [
        move(
            "RequestDocumentsDes",
            requested_from,
            "DocumentsRequestedDes",
            form(
                title="Request documents through the evidence store",
                description="The resident is sent a link to upload their documents.",
            ),
        ),
        move(
            "RequestDocumentsAppointment",
            (*requested_from, "DocumentsRequestedDes"),
            "DocumentsRequestedAppointment",
            appointment_form("Book an appointment to see the documents"),
            APPOINTMENT_EXAMPLE,
        ),
        move(
            "RescheduleDocumentsAppointment",
            ("DocumentsRequestedAppointment", "DocumentsAppointmentRescheduled"),
            "DocumentsAppointmentRescheduled",
            appointment_form("Rebook the documents appointment", "New date and time"),
            APPOINTMENT_EXAMPLE,
        ),
        move(
            "ReviewDocuments",
            DOCUMENT_STATES,
            reviewed,
            review_form,
            review_example,
            requires=[NEEDS_DOCUMENTS],
        ),
    ]
    if submit_to is not None:
        triggers.append(
            move(
                "SubmitApplication",
                reviewed,
                submit_to,
                form(
                    title="Submit the case for tenure investigation",
                    description="The tenure investigator reviews the case and makes a "
                    "recommendation to the area housing manager.",
                ),
            )
        )
    return triggers


def tenure_investigation(from_state: str = "ApplicationSubmitted") -> list[Trigger]:
    """The tenure investigator recommends approval, decline or an interview (entered from
    `from_state`, leading to `INVESTIGATION_OUTCOMES`)."""
    recommendation = choice(
        {
            "approve": "Approve",
            "decline": "Decline",
            "appointment": "Interview the applicant first",
        },
        "What does the tenure investigator recommend?",
        "Select the tenure investigator's recommendation",
    )
    return [
        decide(
            "TenureInvestigation",
            from_state,
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
            form(
                {"tenureInvestigationRecommendation": recommendation},
                title="Record the tenure investigation",
            ),
            {"tenureInvestigationRecommendation": "approve"},
            examples={
                "TenureInvestigationFailed": {"tenureInvestigationRecommendation": "decline"},
                "TenureInvestigationPassedWithInt": {
                    "tenureInvestigationRecommendation": "appointment"
                },
            },
        )
    ]


def interview_and_approval(
    from_states: Iterable[str] = INVESTIGATION_OUTCOMES,
    approved: str = "HOApprovalPassed",
    declined: str = "HOApprovalFailed",
) -> list[Trigger]:
    """An optional interview, then the housing officer's (area manager's) decision: from
    `from_states` (or after the interview) to `approved` or `declined`."""
    from_states = tuple(from_states)
    return [
        move(
            "ScheduleInterview",
            from_states,
            "InterviewScheduled",
            appointment_form(
                "Book an interview with the applicant", "Date and time of the interview"
            ),
            APPOINTMENT_EXAMPLE,
        ),
        move(
            "RescheduleInterview",
            INTERVIEW_STATES,
            "InterviewRescheduled",
            appointment_form("Rebook the interview", "New date and time of the interview"),
            APPOINTMENT_EXAMPLE,
        ),
        approval((*from_states, *INTERVIEW_STATES), approved, declined),
    ]


def approval(
    from_states: Iterable[str],
    approved: str = "HOApprovalPassed",
    declined: str = "HOApprovalFailed",
    name: str = "HOApproval",
) -> Trigger:
    """The area housing manager's decision, from any of `from_states` to `approved` or
    `declined`, whatever it is called: only area managers may send it."""
    decision_form = form(
        {
            "hoRecommendation": choice(
                {"approve": "Approve the application", "decline": "Decline the application"},
                "What has the area housing manager decided?",
                "Select the area housing manager's decision",
            ),
            "housingAreaManagerName": field(
                {**NAME, "minLength": 2},
                "Name of the area housing manager",
                error="Enter the area housing manager's name",
            ),
        },
        {"reason": notes("Reason for the decision (optional)")},
        title="Record the area housing manager's decision",
        confirm=True,
    )
    return decide(
        name,
        tuple(from_states),
        {
            approved: _answer("hoRecommendation", "approve"),
            declined: _answer("hoRecommendation", "decline"),
        },
        decision_form,
        {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"},
        senders=AREA_MANAGERS,
        examples={
            declined: {
                "hoRecommendation": "decline",
                "housingAreaManagerName": "Jo Bloggs",
                "reason": "The applicant does not meet the criteria.",
            }
        },
    )


def tenure_appointment(from_state: str = "HOApprovalPassed") -> list[Trigger]:
    """Book (and rebook) the appointment where the resident signs, once `from_state` is
    reached; the process brings the trigger that leaves `TENURE_APPOINTMENT_STATES`."""
    return [
        move(
            "ScheduleTenureAppointment",
            from_state,
            "TenureAppointmentScheduled",
            appointment_form("Book the appointment to sign the new tenancy"),
            APPOINTMENT_EXAMPLE,
        ),
        move(
            "RescheduleTenureAppointment",
            TENURE_APPOINTMENT_STATES,
            "TenureAppointmentRescheduled",
            appointment_form("Rebook the tenancy signing", "New date and time"),
            APPOINTMENT_EXAMPLE,
        ),
    ]


def close(from_states: Iterable[str]) -> Trigger:
    """Close a case that cannot go on, once the resident has been told."""
    return move(
        "CloseProcess",
        tuple(from_states),
        CLOSED,
        form(
            {"hasNotifiedResident": NOTIFIED},
            {"reason": notes("Reason for closing the case (optional)")},
            title="Close the case",
            description="Closing ends the case: it cannot be reopened.",
            confirm=True,
        ),
        {"hasNotifiedResident": True, "reason": "Not eligible"},
    )


def cancel(from_states: Iterable[str]) -> Trigger:
    """Cancel a case at the resident's or the officer's request, saying why."""
    return move(
        "CancelProcess",
        tuple(from_states),
        CANCELLED,
        form(
            {
                "comment": field(
                    {**TEXT, "minLength": 1},
                    "Why is the case being cancelled?",
                    error="Enter why the case is being cancelled, in 2,000 characters or fewer",
                )
            },
            {"hasNotifiedResident": yes_no("Have you told the resident?")},
            title="Cancel the case",
            description="Cancelling ends the case: it cannot be reopened.",
            confirm=True,
        ),
        {"comment": "The resident withdrew the application."},
    )


def _answer(key: str, expected: str) -> Callable[[dict], bool]:
    """A branch condition: the form's `key` holds `expected`."""

    def answered(form: dict) -> bool:
        return form.get(key) == expected

    answered.__name__ = f"{key}_is_{expected}"
    return answered
