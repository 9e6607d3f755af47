"""Tenancy audit: an officer visits a tenancy to check who lives there and how it is kept.

AuditRequested --ScheduleVisit--> TenureCheckInProgress (worker: is the tenure still active?)
    --TenureActive--> VisitScheduled (due in 28 days) | --TenureNotActive--> ProcessClosed
VisitScheduled --RecordVisit--> AuditPassed | --ReferBreach--> BreachReferred
    | --RecordNoAccess--> NoAccess: book again (ScheduleVisit) or close. Cancel before the visit.
"""

from machines import stages
from machines.definition import AutomatedStep, ProcessDefinition, move, outcome
from machines.forms import APPOINTMENT, TEXT, form, must_be_true

BREACHES = ["subletting", "nonOccupation", "unauthorisedOccupant", "propertyCondition", "other"]
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
            form({"appointmentDateTime": APPOINTMENT}),
            {"appointmentDateTime": "2026-12-01T10:30:00"},
        ),
        outcome("TenureActive", "TenureCheckInProgress", "VisitScheduled"),
        outcome("TenureNotActive", "TenureCheckInProgress", stages.CLOSED),
        move(
            "RecordVisit",
            "VisitScheduled",
            "AuditPassed",
            form({"tenantSeen": must_be_true("The tenant must be seen.")}, {"notes": TEXT}),
            {"tenantSeen": True, "notes": "Tenant and two children seen; all as recorded."},
        ),
        move(
            "ReferBreach",
            "VisitScheduled",
            "BreachReferred",
            form({"breach": {"enum": BREACHES}, "details": {**TEXT, "minLength": 1}}),
            {"breach": "unauthorisedOccupant", "details": "Two adults not on the tenancy."},
        ),
        move("RecordNoAccess", "VisitScheduled", "NoAccess", form({}, {"notes": TEXT})),
        stages.close(["NoAccess"]),
        stages.cancel(["AuditRequested", "VisitScheduled", "NoAccess"]),
    ),
    final_states=("AuditPassed", "BreachReferred", stages.CLOSED, stages.CANCELLED),
    automated_steps=(AutomatedStep("TenureCheckInProgress", "check_tenure_active", CHECKED),),
    time_limits_days={"VisitScheduled": 28},
    state_events={
        **dict.fromkeys(["AuditPassed", "BreachReferred"], "ProcessCompletedEvent"),
        **dict.fromkeys([stages.CLOSED, stages.CANCELLED], "ProcessClosedEvent"),
    },
)
