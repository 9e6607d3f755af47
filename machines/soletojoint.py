"""Sole to joint: add a resident to a sole tenancy by ending it and granting a joint one.

SelectTenants --CheckAutomatedEligibility--> AutomatedChecksInProgress (worker: BR2-BR19)
    --> AutomatedChecksPassed | AutomatedChecksFailed
AutomatedChecksPassed --CheckManualEligibility--> ManualChecksPassed | ManualChecksFailed
ManualChecksPassed --CheckTenancyBreach--> BreachChecksPassed | BreachChecksFailed
BreachChecksPassed --> documents --> ApplicationSubmitted --TenureInvestigation-->
    investigation outcome --(interview)--HOApproval--> HOApprovalPassed | HOApprovalFailed
HOApprovalPassed --> tenure appointment --UpdateTenure--> TenureUpdateInProgress (worker)
    --> TenureUpdated --CompleteProcess--> ProcessCompleted
Failed checks close the case; most states can be cancelled.
"""

import uuid
from datetime import UTC, datetime

from machines import stages, tenancy
from machines.definition import (
    AutomatedStep,
    ProcessDefinition,
    Requirement,
    StepSamples,
    decide,
    move,
    otherwise,
    outcome,
)
from machines.forms import UUID, choice, field, form, is_true, must_be_true, yes_no
from machines.model import Process
from machines.ports import Ports
from machines.steps import StepResult, step

MANUAL_QUESTIONS = ("br11", "br12", "br13", "br15", "br16", "br7", "br8", "br9")
BREACH_QUESTIONS = ("br5", "br10", "br17", "br18")


def manual_checks_pass(form: dict) -> bool:
    """Lived together 12 months or married (br11), and none of the disqualifying answers."""
    return is_true(form["br11"]) and not any(is_true(form[key]) for key in MANUAL_QUESTIONS[1:])


def breach_checks_pass(form: dict) -> bool:
    """Cautionary contact only with leave to proceed (br5 = br10), no succession, no notices."""
    return (
        is_true(form["br5"]) == is_true(form.get("br10", False))
        and not is_true(form["br17"])
        and not is_true(form["br18"])
    )


def has_tenant(process: Process, form: dict) -> bool:
    return process.find_related("person", "tenant") is not None


def has_incoming_tenant(process: Process, form: dict) -> bool:
    return process.find_related("person", "householdMember") is not None


REVIEW_KEYS = (
    "seenPhotographicId",
    "seenSecondId",
    "isNotInImmigrationControl",
    "seenProofOfRelationship",
    "incomingTenantLivingInProperty",
)
REVIEW_LABELS = {
    "seenPhotographicId": "I have seen photographic ID of the proposed tenant",
    "seenSecondId": "I have seen a second form of ID (it does not have to be photographic)",
    "isNotInImmigrationControl": "I have seen that the proposed tenant is not subject to "
    "immigration control",
    "seenProofOfRelationship": "I have seen proof of the proposed tenant's relationship to "
    "the tenant",
    "incomingTenantLivingInProperty": "I have seen documents showing the proposed tenant has "
    "lived at the property for at least 12 months",
}
MANUAL_LABELS = {
    "br11": "Have the tenant and the proposed tenant lived together for at least 12 months, "
    "or are they married or in a civil partnership?",
    "br12": "Is a property or tenancy elsewhere the proposed tenant's main home?",
    "br13": "Is the tenant the survivor of one or more joint tenants?",
    "br15": "Has the proposed tenant been evicted before?",
    "br16": "Is the proposed tenant subject to immigration control?",
    "br7": "Does the tenant owe more than £500 in rent?",
    "br8": "Is there a live notice seeking possession on the tenancy?",
    "br9": "Does the proposed tenant hold a tenancy or own a property elsewhere?",
}
BREACH_LABELS = {
    "br5": "Is there a cautionary contact on the tenant's or the proposed tenant's record?",
    "br10": "If there is a cautionary contact, has the area housing manager agreed the "
    "application can go ahead?",
    "br17": "Has the tenancy already been passed on by succession?",
    "br18": "Is there any other live notice on the tenancy, for example for a breach of tenancy?",
}
CANCELLABLE = (
    "SelectTenants",
    "AutomatedChecksPassed",
    "ManualChecksPassed",
    "BreachChecksPassed",
    *stages.INVESTIGATION_OUTCOMES,
    *stages.INTERVIEW_STATES,
    "HOApprovalPassed",
    *stages.TENURE_APPOINTMENT_STATES,
)
FAILED_CHECKS = ("AutomatedChecksFailed", "ManualChecksFailed", "BreachChecksFailed")
CLOSABLE = (
    *FAILED_CHECKS,
    *stages.DOCUMENT_STATES,
    "HOApprovalFailed",
    "TenureAppointmentRescheduled",
)

definition = ProcessDefinition(
    name="soletojoint",
    title="Sole to joint tenancy",
    description="Make a sole tenancy joint by adding a resident as a joint tenant.",
    target_type="tenure",
    version=1,
    first_state="SelectTenants",
    triggers=(
        move(
            "CheckAutomatedEligibility",
            "SelectTenants",
            "AutomatedChecksInProgress",
            form(
                {
                    "incomingTenantId": field(
                        UUID,
                        "Who do you want to add as a joint tenant?",
                        "Only adults who live in the property and are not already tenants "
                        "are listed.",
                        "Select the person to add as a joint tenant",
                        widget="person",
                    )
                },
                title="Choose the proposed joint tenant",
                description="The automatic eligibility checks run as soon as you continue.",
            ),
            {"incomingTenantId": "6b2b4b8e-2a4f-4f0e-9a43-5f1d0c3e7a11"},
            requires=[
                Requirement(
                    has_tenant,
                    "Expected related entities to contain {targetType: person, subType: tenant}.",
                )
            ],
        ),
        outcome("EligibilityPassed", "AutomatedChecksInProgress", "AutomatedChecksPassed"),
        outcome("EligibilityFailed", "AutomatedChecksInProgress", "AutomatedChecksFailed"),
        decide(
            "CheckManualEligibility",
            "AutomatedChecksPassed",
            {"ManualChecksPassed": manual_checks_pass, "ManualChecksFailed": otherwise},
            form(
                {key: yes_no(MANUAL_LABELS[key]) for key in MANUAL_QUESTIONS},
                {
                    "proposedTenantExistingPropertyOrTenure": choice(
                        {"tenancy": "A tenancy", "property": "A property", "both": "Both"},
                        "If so, what does the proposed tenant hold elsewhere? (optional)",
                        "Select what the proposed tenant holds elsewhere",
                    )
                },
                title="Answer the further eligibility questions",
            ),
            {"br11": True, **{key: False for key in MANUAL_QUESTIONS[1:]}},
            examples={"ManualChecksFailed": {key: "false" for key in MANUAL_QUESTIONS}},
        ),
        decide(
            "CheckTenancyBreach",
            "ManualChecksPassed",
            {"BreachChecksPassed": breach_checks_pass, "BreachChecksFailed": otherwise},
            form(
                {key: yes_no(BREACH_LABELS[key]) for key in ("br5", "br17", "br18")},
                {"br10": yes_no(BREACH_LABELS["br10"])},
                title="Check for tenancy breaches",
            ),
            {"br5": False, "br10": False, "br17": False, "br18": False},
            examples={
                "BreachChecksFailed": {"br5": True, "br10": False, "br17": False, "br18": False}
            },
        ),
        *stages.documents(
            requested_from=["BreachChecksPassed"],
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
            "UpdateTenure",
            stages.TENURE_APPOINTMENT_STATES,
            "TenureUpdateInProgress",
            form(
                {
                    "tenureStartDate": field(
                        {"type": "string", "format": "date"},
                        "Start date of the new joint tenancy",
                        "For example, 14 12 2026",
                        "Enter the start date of the new tenancy as a real date",
                    )
                },
                title="Create the new joint tenancy",
                description="The sole tenancy ends on this date and the joint tenancy starts.",
                confirm=True,
            ),
            {"tenureStartDate": "2026-12-14"},
            requires=[
                Requirement(
                    has_incoming_tenant,
                    "Expected related entities to contain "
                    "{targetType: person, subType: householdMember}.",
                )
            ],
        ),
        outcome("TenureUpdateSucceeded", "TenureUpdateInProgress", "TenureUpdated"),
        move(
            "CompleteProcess",
            "TenureUpdated",
            stages.COMPLETED,
            form(
                {"hasNotifiedResident": stages.NOTIFIED},
                {"reason": field({"type": "string"}, "Notes (optional)")},
                title="Complete the case",
                confirm=True,
            ),
            {"hasNotifiedResident": True},
        ),
        stages.close(CLOSABLE),
        stages.cancel(CANCELLABLE),
        outcome("CloseInactiveProcess", FAILED_CHECKS, stages.CLOSED),
    ),
    senders=stages.OFFICERS,
    step_samples=StepSamples(
        target_id="0f9d6a7e-1c2b-4d3e-8f4a-5b6c7d8e9f01",
        related_entities=(
            {
                "id": "1a2b3c4d-0000-4000-8000-00000000a001",
                "targetType": "person",
                "subType": "tenant",
                "description": "Pat Jones",
            },
        ),
        tenures=(
            {
                "id": "0f9d6a7e-1c2b-4d3e-8f4a-5b6c7d8e9f01",
                "isActive": True,
                "tenureType": {"code": "SEC", "description": "Secure"},
                "tenuredAsset": {
                    "id": "5e6f7a8b-0000-4000-8000-00000000b001",
                    "fullAddress": "1 Mare Street, London E8",
                },
                "householdMembers": [
                    {
                        "id": "1a2b3c4d-0000-4000-8000-00000000a001",
                        "fullName": "Pat Jones",
                        "personTenureType": "Tenant",
                        "isResponsible": True,
                        "dateOfBirth": "1970-05-01",
                    },
                    {
                        "id": "6b2b4b8e-2a4f-4f0e-9a43-5f1d0c3e7a11",
                        "fullName": "Sam Jones",
                        "personTenureType": "HouseholdMember",
                        "isResponsible": False,
                        "dateOfBirth": "1975-09-12",
                    },
                ],
                "startOfTenureDate": "2010-01-04",
                "endOfTenureDate": None,
            },
        ),
        persons=(
            {
                "id": "6b2b4b8e-2a4f-4f0e-9a43-5f1d0c3e7a11",
                "firstName": "Sam",
                "surname": "Jones",
                "dateOfBirth": "1975-09-12",
                "tenures": [
                    {
                        "id": "0f9d6a7e-1c2b-4d3e-8f4a-5b6c7d8e9f01",
                        "type": "Secure",
                        "isActive": True,
                    }
                ],
            },
        ),
    ),
    final_states=(stages.CLOSED, stages.CANCELLED, stages.COMPLETED),
    automated_steps=(
        AutomatedStep(
            "AutomatedChecksInProgress",
            "check_sole_to_joint_eligibility",
            ("EligibilityPassed", "EligibilityFailed"),
            "Check BR2, BR3, BR4, BR6, BR9 and BR19 against the tenure and both residents.",
        ),
        AutomatedStep(
            "TenureUpdateInProgress",
            "update_tenure",
            ("TenureUpdateSucceeded",),
            "End the sole tenure and start the joint one through the Tenure API.",
        ),
    ),
    default_assignments=dict.fromkeys(stages.AWAITING_APPROVAL, stages.APPROVAL_TEAM),
    time_limits_days={
        "BreachChecksPassed": 10,
        "ApplicationSubmitted": 5,
        **{state: 2 for state in stages.INVESTIGATION_OUTCOMES},
        "HOApprovalPassed": 2,
        # A failed case nobody closes is closed for the officer after a month.
        **{state: 30 for state in FAILED_CHECKS},
    },
    on_overdue={state: "CloseInactiveProcess" for state in FAILED_CHECKS},
    state_events={
        stages.CLOSED: "ProcessClosedEvent",
        stages.CANCELLED: "ProcessClosedEvent",
        stages.COMPLETED: "ProcessCompletedEvent",
    },
)


# New tenure ids derive from the process id, so a repeated step recreates the same tenure.
NEW_TENURE_NAMESPACE = uuid.UUID("0d7c3f7e-5d1b-4f0e-8a53-6a1f1f0e9b21")


@step("check_sole_to_joint_eligibility")
def check_sole_to_joint_eligibility(process: Process, ports: Ports) -> StepResult:
    """Check BR2-BR19 on the tenure and both residents; keep every rule's result."""
    incoming_id = process.current_state.form_data["incomingTenantId"]
    tenant = process.find_related("person", "tenant")
    if tenant is None:
        raise ValueError(
            "The process has no related entity {targetType: person, subType: tenant}."
        )
    tenure = ports.tenures.get(process.target_id)
    incoming = ports.persons.get(incoming_id)
    results = tenancy.eligibility(tenure, tenant["id"], incoming, datetime.now(UTC).date())
    passed = all(result.passed for result in results)
    name = " ".join(part for part in (incoming.get("firstName"), incoming.get("surname")) if part)
    return StepResult(
        "EligibilityPassed" if passed else "EligibilityFailed",
        data={
            "incomingTenantId": incoming_id,
            "eligibilityChecks": [result.as_dict() for result in results],
        },
        add_related_entities=[
            {
                "id": incoming_id,
                "targetType": "person",
                "subType": "householdMember",
                "description": name,
            }
        ],
    )


@step("update_tenure")
def update_tenure(process: Process, ports: Ports) -> StepResult:
    """End the sole tenure on the start date and create the joint one."""
    start_date = process.current_state.form_data["tenureStartDate"]
    incoming = process.find_related("person", "householdMember")
    if incoming is None:
        raise ValueError("The process has no incoming tenant (person, householdMember).")
    new_id = str(uuid.uuid5(NEW_TENURE_NAMESPACE, process.id))
    old = ports.tenures.get(process.target_id)
    ports.tenures.end(process.target_id, start_date)
    ports.tenures.create(tenancy.joint_tenure(old, new_id, incoming["id"], start_date))
    return StepResult(
        "TenureUpdateSucceeded",
        data={"newTenureId": new_id, "tenureStartDate": start_date},
        add_related_entities=[
            {
                "id": new_id,
                "targetType": "tenure",
                "subType": "newTenure",
                "description": "New Tenure created for this process.",
            }
        ],
    )
