"""Change of name: a tenant asks for the name on their records to change.

EnterNewName --EnterNewName--> NameSubmitted --> documents --> ApplicationSubmitted
    --TenureInvestigation--> investigation outcome --(interview)--HOApproval-->
    HOApprovalPassed --> tenure appointment --UpdateName--> NameUpdateInProgress (worker)
    --> NameUpdated
Failed or abandoned cases are closed or cancelled.
"""

from machines import stages
from machines.definition import AutomatedStep, ProcessDefinition, StepSamples, move, outcome
from machines.forms import NAME, TITLES, field, form, must_be_true
from machines.model import Process
from machines.ports import Ports
from machines.steps import StepResult, step

REVIEW_KEYS = ("seenPhotographicId", "seenSecondId", "atLeastOneDocument")
REVIEW_LABELS = {
    "seenPhotographicId": "I have seen photographic ID of the tenant",
    "seenSecondId": "I have seen a second form of ID (it does not have to be photographic)",
    "atLeastOneDocument": "I have seen at least one document supporting the new name, for "
    "example a marriage certificate or a deed poll",
}
CANCELLABLE = (
    "EnterNewName",
    "NameSubmitted",
    *stages.INVESTIGATION_OUTCOMES,
    *stages.INTERVIEW_STATES,
    "HOApprovalPassed",
    *stages.TENURE_APPOINTMENT_STATES,
)
CLOSABLE = (*stages.DOCUMENT_STATES, "HOApprovalFailed", "TenureAppointmentRescheduled")

definition = ProcessDefinition(
    name="changeofname",
    title="Change of name",
    description="Change a tenant's name on their person record.",
    target_type="person",
    version=1,
    first_state="EnterNewName",
    triggers=(
        move(
            "EnterNewName",
            "EnterNewName",
            "NameSubmitted",
            form(
                {
                    "title": field(
                        {"enum": list(TITLES)}, "Title", error="Select the tenant's new title"
                    ),
                    "firstName": field(NAME, "First name", error="Enter the new first name"),
                    "surname": field(NAME, "Last name", error="Enter the new last name"),
                },
                {
                    "middleName": field(
                        {"type": "string", "maxLength": 100},
                        "Middle names (optional)",
                        error="Middle names must be 100 characters or fewer",
                    )
                },
                title="Enter the tenant's new name",
                order=["title", "firstName", "middleName", "surname"],
            ),
            {"title": "Ms", "firstName": "Patricia", "middleName": "", "surname": "Williams"},
        ),
        *stages.documents(
            requested_from=["NameSubmitted"],
            review_form=form(
                {
                    key: must_be_true(
                        "Confirm that " + label.replace("I have", "you have", 1), label
                    )
                    for key, label in REVIEW_LABELS.items()
                },
                title="Check the supporting documents",
                description="Upload the documents to the case first.",
            ),
            review_example={key: True for key in REVIEW_KEYS},
        ),
        *stages.tenure_investigation(),
        *stages.interview_and_approval(),
        *stages.tenure_appointment(),
        move(
            "UpdateName",
            stages.TENURE_APPOINTMENT_STATES,
            "NameUpdateInProgress",
            form(
                {"hasNotifiedResident": stages.NOTIFIED},
                {"reason": field({"type": "string"}, "Notes (optional)")},
                title="Change the name on the tenant's record",
                description="The new name is written to the tenant's record and the case ends.",
                confirm=True,
            ),
            {"hasNotifiedResident": True},
        ),
        outcome("NameUpdateSucceeded", "NameUpdateInProgress", "NameUpdated"),
        stages.close(CLOSABLE),
        stages.cancel(CANCELLABLE),
    ),
    senders=stages.OFFICERS,
    step_samples=StepSamples(
        target_id="2c3d4e5f-0000-4000-8000-00000000c001",
        persons=(
            {
                "id": "2c3d4e5f-0000-4000-8000-00000000c001",
                "title": "Mrs",
                "firstName": "Patricia",
                "middleName": "",
                "surname": "Smith",
            },
        ),
    ),
    final_states=(stages.CLOSED, stages.CANCELLED, "NameUpdated"),
    automated_steps=(
        AutomatedStep(
            "NameUpdateInProgress",
            "update_person_name",
            ("NameUpdateSucceeded",),
            "Write the name entered at NameSubmitted to the person record through the Person API.",
        ),
    ),
    default_assignments=dict.fromkeys(stages.AWAITING_APPROVAL, stages.APPROVAL_TEAM),
    time_limits_days={
        "ApplicationSubmitted": 5,
        **{state: 2 for state in stages.INVESTIGATION_OUTCOMES},
        "HOApprovalPassed": 2,
    },
    state_events={
        stages.CLOSED: "ProcessClosedEvent",
        stages.CANCELLED: "ProcessClosedEvent",
        "NameUpdated": "ProcessCompletedEvent",
    },
)


@step("update_person_name")
def update_person_name(process: Process, ports: Ports) -> StepResult:
    """Write the name entered at NameSubmitted to the person record."""
    submitted = process.last_entry_in("NameSubmitted")
    if submitted is None:
        raise ValueError("The process never recorded a new name (no NameSubmitted state).")
    form = submitted.form_data
    name = {
        "title": form["title"],
        "firstName": form["firstName"],
        "middleName": form.get("middleName") or "",
        "surname": form["surname"],
    }
    ports.persons.update_name(process.target_id, name)
    return StepResult("NameUpdateSucceeded", data=name)
