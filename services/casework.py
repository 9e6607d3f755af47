"""What an officer may do with cases now, asked of the same rules the use cases enforce.

The officer pages show one button per trigger the caller may send: what the definition
permits in the current state, less what the authorisation policy refuses them (those are
shown as waiting for someone else). Also here: the worktray, which hides finished cases and
lists cases with a deadline first, and who a case is about, read from the owning services.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import machines
from machines.definition import ProcessDefinition
from machines.model import Process
from machines.ports import Ports, Record, RecordNotFound, Repository, ServiceUnavailable
from machines.queries import ProcessQuery
from services import processes
from services.authorisation import Forbidden
from services.context import Context
from services.errors import InvalidPageToken
from services.paging import PageTokens
from services.processes import Page

log = logging.getLogger(__name__)

MAX_READS_PER_PAGE = 20
"""How many reads a worktray page may take to skip finished cases before it shows fewer."""
ADULT_AGE = 18


@dataclass(frozen=True)
class Actions:
    """The triggers a caller may send to a process now, and those only others may send."""

    sendable: list[str]
    others_only: list[tuple[str, tuple[str, ...]]]
    """Triggers the state permits that the caller may not send, with the groups that may."""


def actions(definition: ProcessDefinition, process: Process, ctx: Context) -> Actions:
    """Split the triggers the state permits into those the caller may send and the rest."""
    sendable: list[str] = []
    others_only: list[tuple[str, tuple[str, ...]]] = []
    try:
        ctx.policy.check_access(ctx.groups, process)
    except Forbidden:
        return Actions([], [])
    for name in definition.permitted_triggers(process.state):
        try:
            ctx.policy.check_trigger(ctx.groups, definition, name)
        except Forbidden:
            others_only.append((name, ctx.policy.senders(definition, name)))
        else:
            sendable.append(name)
    return Actions(sendable, others_only)


def startable(ctx: Context) -> list[ProcessDefinition]:
    """The process types the caller may start, by title."""
    found = []
    for definition in machines.registry().values():
        try:
            ctx.policy.check_start(ctx.groups, definition.name, None)
        except Forbidden:
            continue
        found.append(definition)
    return sorted(found, key=lambda d: d.title)


def worktray(
    repo: Repository,
    query: ProcessQuery,
    page_size: int,
    token: str | None,
    tokens: PageTokens,
    ctx: Context,
    *,
    include_final: bool = False,
) -> Page:
    """A page of the caller's cases, without finished ones unless asked for.

    Sorted by deadline, cases with one come first, soonest first, then those without, most
    recently updated first. The token says which of the two runs the next page continues.
    """
    run, inner = _read_token(token, query.sort)
    rows: list[Process] = []
    for _ in range(MAX_READS_PER_PAGE):
        read = replace(query, sort="updatedAt") if run == "rest" else query
        page = processes.search(repo, read, page_size - len(rows), inner or None, tokens, ctx)
        rows += [p for p in page.processes if _shown(p, run, include_final)]
        if page.next_token is not None:
            inner = page.next_token
        elif run != "due":
            return Page(rows, None)
        else:
            run, inner = "rest", ""
        if len(rows) >= page_size:
            break
    return Page(rows, f"{run}:{inner or ''}")


def _shown(process: Process, run: str, include_final: bool) -> bool:
    if run == "rest" and process.current_state.due_at is not None:
        return False  # listed in the run by deadline
    definition = machines.get(process.process_name)
    return include_final or definition is None or not definition.is_final(process.state)


def _read_token(token: str | None, sort: str) -> tuple[str, str]:
    first = "due" if sort == "dueAt" else "all"
    if not token:
        return first, ""
    run, _, inner = token.partition(":")
    if run not in (first, "rest") or (run == "rest" and first != "due"):
        raise InvalidPageToken()
    return run, inner


@dataclass(frozen=True)
class Person:
    """Someone a case involves, as the owning service knows them."""

    id: str
    name: str
    date_of_birth: str | None = None
    role: str | None = None
    is_responsible: bool = False

    def age(self, today: date) -> int | None:
        """Age in whole years on `today`; None when the date of birth is unknown."""
        if not self.date_of_birth:
            return None
        try:
            born = date.fromisoformat(self.date_of_birth[:10])
        except ValueError:
            return None
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True)
class Target:
    """Who or what a case is about, with the people and places that come with it."""

    type: str
    id: str
    found: bool
    title: str
    details: list[tuple[str, str]] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    record: Record = field(default_factory=dict)


def target(ports: Ports, target_type: str, target_id: str) -> Target:
    """Look up the case's target; one the services do not know (or cannot say) is shown by id."""
    try:
        if target_type == "tenure":
            return _tenure(ports.tenures.get(target_id))
        if target_type == "person":
            return _person(ports.persons.get(target_id))
    except (RecordNotFound, ServiceUnavailable) as error:
        log.info("no record for %s %s: %s", target_type, target_id, error)
    return Target(target_type, target_id, False, f"{target_type.capitalize()} {target_id}")


def _tenure(record: Record) -> Target:
    asset = record.get("tenuredAsset") or {}
    people = [
        Person(
            str(m.get("id")),
            str(m.get("fullName") or m.get("id")),
            m.get("dateOfBirth"),
            m.get("personTenureType"),
            bool(m.get("isResponsible")),
        )
        for m in record.get("householdMembers") or []
    ]
    details = [
        ("Tenure type", str((record.get("tenureType") or {}).get("description") or "Unknown")),
        ("Tenancy start date", str(record.get("startOfTenureDate") or "Unknown")),
        ("Payment reference", str(record.get("paymentReference") or "None")),
        ("Active", "Yes" if record.get("isActive") else "No"),
    ]
    title = str(asset.get("fullAddress") or f"Tenure {record.get('id')}")
    return Target("tenure", str(record["id"]), True, title, details, people, record)


def _person(record: Record) -> Target:
    name = " ".join(
        str(record[key])
        for key in ("title", "firstName", "middleName", "surname")
        if record.get(key)
    )
    tenures = record.get("tenures") or []
    details = [("Date of birth", str(record.get("dateOfBirth") or "Unknown"))]
    details += [
        (
            "Tenure" if t.get("isActive") else "Past tenure",
            f"{t.get('type') or 'Tenure'} at {t.get('assetFullAddress') or t.get('id')}",
        )
        for t in tenures
    ]
    return Target(
        "person", str(record["id"]), True, name or str(record["id"]), details, [], record
    )


def start_related_entities(found: Target) -> list[dict[str, Any]]:
    """The related entities a case starts with, as the existing front end sends them: for a
    tenure, its responsible tenant and its property; for a person, themselves as the tenant,
    and their active tenure and its property."""
    related: list[dict[str, Any]] = []
    record = found.record
    if found.type == "tenure":
        for person in found.people:
            if person.is_responsible:
                related.append(_entity(person.id, "person", "tenant", person.name))
        asset = record.get("tenuredAsset") or {}
        if asset.get("id"):
            related.append(_entity(asset["id"], "asset", None, asset.get("fullAddress")))
    elif found.type == "person":
        related.append(_entity(found.id, "person", "tenant", found.title))
        for tenure in record.get("tenures") or []:
            if tenure.get("isActive"):
                related.append(
                    _entity(tenure["id"], "tenure", None, tenure.get("assetFullAddress"))
                )
                break
    return related


def proposed_tenants(found: Target, today: date | None = None) -> list[Person]:
    """Who may be proposed as a joint tenant: adult household members who are not tenants."""
    today = today or datetime.now(UTC).date()
    return [
        person
        for person in found.people
        if not person.is_responsible
        and person.role != "Tenant"
        and (person.age(today) or 0) >= ADULT_AGE
    ]


def _entity(
    entity_id: str, target_type: str, sub_type: str | None, description: Any
) -> dict[str, Any]:
    entity: dict[str, Any] = {"id": entity_id, "targetType": target_type}
    if sub_type:
        entity["subType"] = sub_type
    if description:
        entity["description"] = str(description)
    return entity
