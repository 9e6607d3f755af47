"""Tenancy audit: an officer visits a tenancy to check who lives there and how it is kept.

AuditRequested --ScheduleVisit--> TenureCheckInProgress (worker: is the tenure still active?)
    --TenureActive--> VisitScheduled (due in 28 days) | --TenureNotActive--> ProcessClosed
VisitScheduled --RecordVisit--> AuditPassed | --ReferBreach--> BreachReferred
    | --RecordNoAccess--> NoAccess: book again (ScheduleVisit) or close. Cancel before the visit.
"""

from machines import stages
from machines.definition import AutomatedStep, ProcessDefinition, StepSamples, move, outcome
from machines.forms import APPOINTMENT, TEXT, choice, field, form, must_be_true
from machines.model import Process
from machines.ports import Ports
from machines.steps import StepResult, step

BREACHES = {
    "subletting": "Subletting",
    "nonOccupation": "The tenant does not live there",
    "unauthorisedOccupant": "Someone lives there who is not on the tenancy",
    "propertyCondition": "The condition of the property",
    "other": "Something else",
}
CHECKED = ("TenureActive", "TenureNotActive")

definition = ProcessDefinition(
    name="tenancyaudit",
    title="Tenancy audit visit",
    description="Visit a tenancy to confirm who lives there; refer any breach for enforcement.",
    target_type="tenure",
    version=1,
    first_state="AuditRequested",
    triggers=(
        move(
            "ScheduleVisit",
            ("AuditRequested", "VisitScheduled", "NoAccess"),
            "TenureCheckInProgress",
            form(
                {"appointmentDateTime": field(APPOINTMENT, "Date and time of the visit")},
                title="Book the audit visit",
            ),
            {"appointmentDateTime": "2026-12-01T10:30:00"},
        ),
        outcome("TenureActive", "TenureCheckInProgress", "VisitScheduled"),
        outcome("TenureNotActive", "TenureCheckInProgress", stages.CLOSED),
        move(
            "RecordVisit",
            "VisitScheduled",
            "AuditPassed",
            form(
                {"tenantSeen": must_be_true("The tenant must be seen.", "I saw the tenant")},
                {"notes": stages.notes("What you found (optional)")},
                title="Record the visit",
            ),
            {"tenantSeen": True, "notes": "Tenant and two children seen; all as recorded."},
        ),
        move(
            "ReferBreach",
            "VisitScheduled",
            "BreachReferred",
            form(
                {
                    "breach": choice(BREACHES, "What breach did you find?", "Select a breach"),
                    "details": field({**TEXT, "minLength": 1}, "What did you see?"),
                },
                title="Refer a breach of tenancy",
            ),
            {"breach": "unauthorisedOccupant", "details": "Two adults not on the tenancy."},
        ),
        move(
            "RecordNoAccess",
            "VisitScheduled",
            "NoAccess",
            form(
                {},
                {"notes": stages.notes("Why there was no access (optional)")},
                title="Record that there was no access",
            ),
        ),
        stages.close(["NoAccess"]),
        stages.cancel(["AuditRequested", "VisitScheduled", "NoAccess"]),
    ),
    senders=stages.OFFICERS,
    step_samples=StepSamples(
        target_id="3d4e5f6a-0000-4000-8000-00000000d001",
        tenures=(
            {
                "id": "3d4e5f6a-0000-4000-8000-00000000d001",
                "isActive": True,
                "tenuredAsset": {"fullAddress": "2 Mare Street, London E8"},
            },
        ),
    ),
    final_states=("AuditPassed", "BreachReferred", stages.CLOSED, stages.CANCELLED),
    automated_steps=(AutomatedStep("TenureCheckInProgress", "check_tenure_active", CHECKED),),
    time_limits_days={"VisitScheduled": 28},
    state_events={
        **dict.fromkeys(["AuditPassed", "BreachReferred"], "ProcessCompletedEvent"),
        **dict.fromkeys([stages.CLOSED, stages.CANCELLED], "ProcessClosedEvent"),
    },
)


@step("check_tenure_active")
def check_tenure_active(process: Process, ports: Ports) -> StepResult:
    """Confirm the tenure is still active before an officer visits it (tenancy audit)."""
    tenure = ports.tenures.get(process.target_id)
    data = {
        "appointmentDateTime": process.current_state.form_data.get("appointmentDateTime"),
        "tenureActive": bool(tenure.get("isActive")),
        "address": (tenure.get("tenuredAsset") or {}).get("fullAddress"),
    }
    if not data["tenureActive"]:
        data["reason"] = "The tenure is no longer active, so there is nothing to audit."
        return StepResult("TenureNotActive", data=data)
    return StepResult("TenureActive", data=data)
