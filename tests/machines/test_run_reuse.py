"""`ProcessDefinition.run` keeps a machine per thread: it must answer for any state, also after
that machine reached a final state or refused a trigger (found by the fault-injection tests)."""

from __future__ import annotations

import pytest
from statemachine.exceptions import TransitionNotAllowed

import machines

SCHEDULE = {"appointmentDateTime": "2030-06-01T10:30:00"}


def test_run_after_a_final_state_and_after_a_refusal() -> None:
    audit = machines.get("tenancyaudit")
    assert audit is not None
    assert audit.run("VisitScheduled", "RecordVisit", {"tenantSeen": True}) == "AuditPassed"
    assert audit.run("TenureCheckInProgress", "TenureActive", {}) == "VisitScheduled"
    with pytest.raises(TransitionNotAllowed):
        audit.run("AuditPassed", "ScheduleVisit", SCHEDULE)
    assert audit.run("AuditRequested", "ScheduleVisit", SCHEDULE) == "TenureCheckInProgress"
    assert audit.run("TenureCheckInProgress", "TenureNotActive", {}) == "ProcessClosed"
    assert audit.run("NoAccess", "ScheduleVisit", SCHEDULE) == "TenureCheckInProgress"
