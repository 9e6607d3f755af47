"""Worktrays: processes by patch, officer, state, type and deadline, each served by an index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from machines.queries import ProcessQuery
from services import housekeeping
from services.context import now
from tests.support import BASE, fire, new_id, start

NAME = {"title": "Mr", "firstName": "Al", "surname": "Li"}


def listed(client, **query: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every page of a listing, in order."""
    rows: list[dict[str, Any]] = []
    token = None
    while True:
        params = {**query, "pageSize": 2, **({"paginationToken": token} if token else {})}
        response = client.get(BASE, query_string=params)
        assert response.status_code == 200, response.get_json()
        payload = response.get_json()
        rows += [body for item in payload["results"] for body in item.values()]
        token = payload["paginationDetails"]["nextToken"]
        if token is None:
            return rows


@pytest.fixture
def cases(client) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A few cases on two patches, in different states, with and without an officer."""
    officer = {"patch": "E1", "officerId": "off-7", "officerName": "Kim Lee"}
    made = {
        "e1_new": start(client, "changeofname", assignment={"patch": "E1"}),
        "e1_named": start(client, "changeofname", assignment=officer),
        "e2_joint": start(client, "soletojoint", assignment={"patch": "E2"}),
        "e2_named": start(client, "changeofname", assignment={"patch": "E2"}),
    }
    fire(client, made["e1_named"], "EnterNewName", NAME)
    fire(client, made["e2_named"], "EnterNewName", NAME)
    return made


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def test_worktray_filters_by_patch_state_type_and_officer(client, cases):
    """Each filter narrows the tray; filters combine."""
    assert set(ids(listed(client, patch="E1"))) == {cases["e1_new"]["id"], cases["e1_named"]["id"]}
    assert set(ids(listed(client, state="NameSubmitted"))) >= {
        cases["e1_named"]["id"],
        cases["e2_named"]["id"],
    }
    assert ids(listed(client, processName="soletojoint", patch="E2")) == [cases["e2_joint"]["id"]]
    assert ids(listed(client, assignee="off-7")) == [cases["e1_named"]["id"]]
    assert ids(listed(client, patch="E2", state="NameSubmitted")) == [cases["e2_named"]["id"]]


def test_worktray_sorted_by_last_update_pages_without_gaps(client, cases):
    """Sorting by updatedAt puts the latest activity first, across pages, each case once."""
    touched = cases["e1_new"]
    client.patch(
        f"{BASE}/changeofname/{touched['id']}",
        json={"assignment": {"patch": "E1", "team": "Tenancy"}},
    )
    rows = listed(client, sort="updatedAt")
    assert rows[0]["id"] == touched["id"]
    assert len(ids(rows)) == len(set(ids(rows))) == 4
    stamps = [row["updatedAt"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_overdue_tray_lists_late_cases_soonest_due_first(client, app, cases):
    """overdue=true shows only cases past their time limit; sort=dueAt shows soonest first."""
    late = start(client, "changeofname", assignment={"patch": "E1"})
    for trigger, form in [
        ("EnterNewName", NAME),
        ("RequestDocumentsDes", {}),
        (
            "ReviewDocuments",
            {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
        ),
        ("SubmitApplication", {}),
    ]:
        response = client.patch(
            f"{BASE}/changeofname/{late['id']}",
            json={"trigger": trigger, "formData": form, "documents": [new_id()]},
        )
        assert response.status_code == 200, response.get_json()
    repo = app.extensions["repository"]()
    housekeeping.mark_overdue(repo, lambda *_: None, at=now() + timedelta(days=6))

    assert ids(listed(client, overdue="true")) == [late["id"]]
    assert late["id"] not in ids(listed(client, overdue="false"))
    assert ids(listed(client, sort="dueAt")) == [late["id"]]


def test_reassignment_history_keeps_who_and_when(client, cases, dispatched):
    """Each reassignment is kept in the activity trail with the officer and time."""
    case = cases["e1_new"]
    for patch in ("E2", "E3"):
        response = client.patch(
            f"{BASE}/changeofname/{case['id']}", json={"assignment": {"patch": patch}}
        )
        assert response.status_code == 200
    body = client.get(f"{BASE}/changeofname/{case['id']}").get_json()["changeofname"]
    moves = [a for a in body["activity"] if a["kind"] == "Assigned"]
    assert [m["details"]["new"]["patch"] for m in moves] == ["E2", "E3"]
    assert all(m["actedBy"]["id"] == "officer-1" and m["at"].endswith("Z") for m in moves)
    assert body["currentState"]["assignment"]["patch"] == "E3"
    assigned = [f for f in dispatched.for_process(case["id"]) if f.name == "ProcessAssigned"]
    assert [f.payload["eventData"]["newData"]["assignment"]["patch"] for f in assigned] == [
        "E2",
        "E3",
    ]


QUERIES = {
    "target": ProcessQuery(target_id="t"),
    "patch": ProcessQuery(patch="E1"),
    "patch+state": ProcessQuery(patch="E1", state="NameSubmitted"),
    "assignee": ProcessQuery(officer_id="off-7", sort="updatedAt"),
    "state": ProcessQuery(state="NameSubmitted", sort="updatedAt"),
    "processName": ProcessQuery(process_name="soletojoint"),
    "overdue": ProcessQuery(overdue=True, sort="dueAt"),
    "dueAt": ProcessQuery(sort="dueAt"),
    "all-newest": ProcessQuery(),
    "all-updated": ProcessQuery(sort="updatedAt"),
    "officer-scope": ProcessQuery(within_patches=frozenset({"E1", "E2"})),
}


def stages(plan: Any) -> list[str]:
    found: list[str] = []
    if isinstance(plan, dict):
        if "stage" in plan:
            found.append(plan["stage"])
        for value in plan.values():
            found += stages(value)
    elif isinstance(plan, list):
        for item in plan:
            found += stages(item)
    return found


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_worktray_filter_is_served_by_an_index(app, cases, name: str):
    """explain() shows an index scan, never a collection scan, for each supported filter."""
    repo = app.extensions["repository"]()
    plan = repo.explain(QUERIES[name])["queryPlanner"]["winningPlan"]
    assert "IXSCAN" in stages(plan), plan
    assert "COLLSCAN" not in stages(plan), plan


def test_cases_awaiting_approval_go_to_the_area_managers_team(client, dispatched):
    """A definition's default assignment applies on entry; the patch stays, the move is told."""
    case = start(client, "changeofname", assignment={"patch": "E1", "officerId": "off-7"})
    for trigger, form in [
        ("EnterNewName", NAME),
        ("RequestDocumentsDes", {}),
        (
            "ReviewDocuments",
            {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
        ),
        ("SubmitApplication", {}),
        ("TenureInvestigation", {"tenureInvestigationRecommendation": "approve"}),
    ]:
        response = client.patch(
            f"{BASE}/changeofname/{case['id']}",
            json={"trigger": trigger, "formData": form, "documents": [new_id()]},
        )
        assert response.status_code == 200, response.get_json()
    current = response.get_json()["changeofname"]["currentState"]
    assert current["assignment"] == {"patch": "E1", "officerId": "off-7", "team": "area-managers"}
    assert ids(listed(client, patch="E1", state="TenureInvestigationPassed")) == [case["id"]]
    assert "ProcessAssigned" in [f.name for f in dispatched.for_process(case["id"])]
