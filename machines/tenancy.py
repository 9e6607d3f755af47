"""Sole to joint's business rules on tenure and person records: pure functions, no I/O.

Records are dicts in the Tenure and Person APIs' JSON shapes. Each eligibility rule gives a
result with a plain-language reason, so officers see why a case passed or failed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

Record = dict[str, Any]

NON_SECURE = {"non", "non-secure", "nonsecure"}


@dataclass(frozen=True)
class RuleResult:
    """One business rule's verdict."""

    id: str
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def eligibility(tenure: Record, tenant_id: str, incoming: Record, today: date) -> list[RuleResult]:
    """Evaluate every automated sole to joint rule; all must pass."""
    members = tenure.get("householdMembers") or []
    tenant = _member(members, tenant_id)
    incoming_member = _member(members, incoming["id"])
    responsible = [m for m in members if m.get("isResponsible")]
    tenure_code = str((tenure.get("tenureType") or {}).get("code", "")).upper()
    age = _age(incoming.get("dateOfBirth"), today)
    other_tenures = [
        t
        for t in incoming.get("tenures") or []
        if t.get("id") != tenure.get("id")
        and t.get("isActive")
        and str(t.get("type", "")).lower() not in NON_SECURE
    ]
    return [
        _rule(
            "BR2",
            tenant is not None and tenant.get("personTenureType") == "Tenant",
            "The current tenant is the tenant of this tenure.",
            "The current tenant is not recorded as the tenant of this tenure."
            if tenant is not None
            else "The current tenant is not a household member of this tenure.",
        ),
        _rule(
            "BR3",
            len(responsible) <= 1,
            "The tenure has a single responsible tenant (it is not already joint).",
            f"The tenure already has {len(responsible)} responsible tenants.",
        ),
        _rule(
            "BR4",
            tenure_code == "SEC",
            "The tenure is secure.",
            f"The tenure type is {tenure_code or 'unknown'}, not secure (SEC).",
        ),
        _rule(
            "BR6",
            bool(tenure.get("isActive")),
            "The tenure is active.",
            "The tenure is not active.",
        ),
        _rule(
            "BR9",
            not other_tenures,
            "The proposed tenant holds no other active secure tenure.",
            "The proposed tenant holds another active tenure: "
            + ", ".join(str(t.get("id")) for t in other_tenures)
            + ".",
        ),
        _rule(
            "BR19",
            age is not None and age >= 18,
            "The proposed tenant is an adult.",
            "The proposed tenant's date of birth is not known."
            if age is None
            else f"The proposed tenant is {age}, under 18.",
        ),
        _rule(
            "HouseholdMember",
            incoming_member is not None,
            "The proposed tenant is a household member of this tenure.",
            "The proposed tenant is not a household member of this tenure.",
        ),
    ]


def joint_tenure(old: Record, new_id: str, incoming_id: str, start_date: str) -> Record:
    """The joint tenure that replaces `old`: the same terms, the incoming tenant made joint."""
    members = []
    for member in old.get("householdMembers") or []:
        member = dict(member)
        if member.get("id") == incoming_id:
            member["personTenureType"] = "Tenant"
            member["isResponsible"] = True
        members.append(member)
    carried: dict[str, Any] = {
        key: old[key]
        for key in (
            "tenuredAsset",
            "tenureType",
            "agreementType",
            "charges",
            "notices",
            "legacyReferences",
            "isSublet",
            "isTenanted",
            "isMutualExchange",
            "informHousingBenefitsForChanges",
            "subletEndDate",
            "potentialEndDate",
            "evictionDate",
            "successionDate",
            "terminated",
        )
        if key in old
    }
    return {
        **carried,
        "id": new_id,
        "householdMembers": members,
        "startOfTenureDate": start_date,
        "endOfTenureDate": None,
        "isActive": True,
        "paymentReference": None,
    }


def _rule(rule_id: str, passed: bool, if_passed: str, if_failed: str) -> RuleResult:
    return RuleResult(rule_id, passed, if_passed if passed else if_failed)


def _member(members: list[Record], person_id: str) -> Record | None:
    return next((m for m in members if m.get("id") == person_id), None)


def _age(date_of_birth: str | None, today: date) -> int | None:
    if not date_of_birth:
        return None
    try:
        born = date.fromisoformat(str(date_of_birth)[:10])
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
