"""Automated steps, by the names definitions give them.

A step reads what it needs through `Ports`, may change records in the services that own
them (idempotently: a step can run more than once), and returns the outcome to fire.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from machines import tenancy
from machines.model import Process
from machines.ports import Ports


@dataclass(frozen=True)
class StepResult:
    """What a step found: the outcome trigger to fire and the data to keep on the new state."""

    outcome: str
    data: dict[str, Any] = field(default_factory=dict)
    add_related_entities: list[dict[str, Any]] = field(default_factory=list)


Step = Callable[[Process, Ports], StepResult]

STEPS: dict[str, Step] = {}

# New tenure ids derive from the process id, so a repeated step recreates the same tenure.
NEW_TENURE_NAMESPACE = uuid.UUID("0d7c3f7e-5d1b-4f0e-8a53-6a1f1f0e9b21")


def step(name: str) -> Callable[[Step], Step]:
    """Register a function as the automated step `name`."""

    def register(function: Step) -> Step:
        STEPS[name] = function
        return function

    return register


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
