"""Words the pages use for states, triggers, deadlines and times: what officers read."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from machines.definition import ProcessDefinition

STATES = {
    "ApplicationInitialised": "Application started",
    "SelectTenants": "Select the proposed joint tenant",
    "AutomatedChecksInProgress": "Checking eligibility",
    "AutomatedChecksPassed": "Passed the automatic eligibility checks",
    "AutomatedChecksFailed": "Not eligible: failed the automatic checks",
    "ManualChecksPassed": "Passed the further eligibility checks",
    "ManualChecksFailed": "Not eligible: failed the further eligibility checks",
    "BreachChecksPassed": "Passed the tenancy breach checks",
    "BreachChecksFailed": "Not eligible: failed the tenancy breach checks",
    "EnterNewName": "Enter the new name",
    "NameSubmitted": "New name entered",
    "DocumentsRequestedDes": "Documents requested through the evidence store",
    "DocumentsRequestedAppointment": "Documents appointment booked",
    "DocumentsAppointmentRescheduled": "Documents appointment rebooked",
    "DocumentChecksPassed": "Documents checked",
    "ApplicationSubmitted": "Application submitted for tenure investigation",
    "TenureInvestigationPassed": "Tenure investigation recommends approval",
    "TenureInvestigationFailed": "Tenure investigation recommends declining",
    "TenureInvestigationPassedWithInt": "Tenure investigation recommends an interview",
    "InterviewScheduled": "Interview booked",
    "InterviewRescheduled": "Interview rebooked",
    "HOApprovalPassed": "Approved by the area housing manager",
    "HOApprovalFailed": "Declined by the area housing manager",
    "TenureAppointmentScheduled": "Tenancy signing booked",
    "TenureAppointmentRescheduled": "Tenancy signing rebooked",
    "TenureUpdateInProgress": "Updating the tenure",
    "TenureUpdated": "New tenancy created",
    "NameUpdateInProgress": "Updating the name",
    "NameUpdated": "Name changed: case complete",
    "ProcessClosed": "Closed",
    "ProcessCancelled": "Cancelled",
    "ProcessCompleted": "Complete",
    "AuditRequested": "Audit visit requested",
    "TenureCheckInProgress": "Checking the tenure",
    "VisitScheduled": "Visit booked",
    "AuditPassed": "Audit complete: all as recorded",
    "BreachReferred": "Breach referred for enforcement",
    "NoAccess": "No access at the visit",
}

STEPS = {
    "check_sole_to_joint_eligibility": "Checking eligibility",
    "update_tenure": "Updating the tenure",
    "update_person_name": "Updating the name",
    "check_tenure_active": "Checking the tenure",
}

ROLES = {"area-managers": "an area housing manager", "housing-officers": "a housing officer"}

ACTIVITY = {
    "StateDataUpdated": "Case details changed",
    "Assigned": "Case reassigned",
    "DocumentAttached": "Document uploaded",
    "DocumentRemoved": "Document removed",
    "AutomationFailed": "Automatic step failed",
    "AutomationRetried": "Automatic step tried again",
    "Migrated": "Case moved to a new version of its process",
    "Overdue": "Case became overdue",
}


def state(name: str) -> str:
    """A state in words."""
    return STATES.get(name) or _words(name)


def step(name: str | None) -> str:
    """An automated step in words, as it runs."""
    return STEPS.get(name or "") or "Working on the case"


def trigger(definition: ProcessDefinition, name: str) -> str:
    """What sending a trigger does, as its form's title (or its name in words)."""
    found = definition.trigger_by_name.get(name)
    form = (found.form if found else None) or {}
    return str(form.get("title") or _words(name))


def activity(kind: str) -> str:
    """An activity of the audit trail in words."""
    return ACTIVITY.get(kind) or _words(kind)


def time_left(due: datetime | None, now: datetime, zone: str) -> str:
    """`3 days left`, `Due today` or `2 days overdue`, counted in the council's calendar days."""
    if due is None:
        return "No deadline"
    local = ZoneInfo(zone)
    days = (due.astimezone(local).date() - now.astimezone(local).date()).days
    if days == 0:
        return "Due today"
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} left"
    return f"{-days} day{'s' if days != -1 else ''} overdue"


def is_overdue(due: datetime | None, now: datetime) -> bool:
    """Whether a deadline has passed."""
    return due is not None and due < now


def when(moment: datetime | None, zone: str) -> str:
    """A moment as officers read it: 1 December 2026 at 10:30am, in the council's time."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    hour = local.strftime("%I").lstrip("0")
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{local:%p}".replace("AM", "am").replace(
        "PM", "pm"
    )


def day(value: date | datetime | str | None) -> str:
    """A date as officers read it: 1 December 2026."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return f"{value.day} {value:%B %Y}"


def _words(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ")
    return spaced[:1].upper() + spaced[1:].lower()
