"""The worktray page: the officer's cases, deadline first, filtered through the URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support import fire, new_id, start
from tests.ui.pages import HTML, page, sign_in, text

TO_SUBMITTED = [
    ("EnterNewName", {"title": "Mr", "firstName": "Al", "surname": "Li"}),
    ("RequestDocumentsDes", {}),
    (
        "ReviewDocuments",
        {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
    ),
    ("SubmitApplication", {}),
]


def submitted_case(client, patch: str = "E1", name: str = "Pat Li") -> dict:  # type: ignore[no-untyped-def]
    """A change of name waiting for tenure investigation: it has a deadline (5 days)."""
    process = start(
        client,
        "changeofname",
        assignment={"patch": patch},
        relatedEntities=[
            {"id": new_id(), "targetType": "person", "subType": "tenant", "description": name}
        ],
    )
    for trigger, form in TO_SUBMITTED:
        assert fire(client, process, trigger, form, [new_id()]).status_code == 200
    return process


def rows(client, query: str = "") -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    soup = page(client.get(f"/{query}", headers=HTML))
    headers = [text(th) for th in soup.select("table.app-worktray thead th")]
    return [
        dict(zip(headers, (text(td) for td in tr.select("td")), strict=True))
        for tr in soup.select("table.app-worktray tbody tr")
    ]


def test_officer_sees_their_patch_and_unassigned_cases_only(client, officer):
    """Cases of E1 and unassigned ones are listed; a case on another patch is not."""
    start(
        client,
        "soletojoint",
        assignment={"patch": "E1"},
        relatedEntities=[{"id": new_id(), "targetType": "asset", "description": "1 Mare Street"}],
    )
    start(
        client,
        "soletojoint",
        assignment={},
        relatedEntities=[{"id": new_id(), "targetType": "asset", "description": "2 Mare Street"}],
    )
    start(
        client,
        "soletojoint",
        assignment={"patch": "E9"},
        relatedEntities=[{"id": new_id(), "targetType": "asset", "description": "9 Other Road"}],
    )
    found = {row["Case"]: row for row in rows(officer)}
    assert set(found) == {"1 Mare Street", "2 Mare Street"}
    assert found["1 Mare Street"]["Patch"] == "E1"
    assert found["2 Mare Street"]["Patch"] == "Unassigned"
    assert found["1 Mare Street"]["State"] == "Select the proposed joint tenant"


def test_cases_with_a_deadline_come_first_with_time_left_in_words(client, officer, db):
    """Deadline first: the overdue case, then the one due in 5 days, then one with none."""
    start(
        client,
        "soletojoint",
        assignment={"patch": "E1"},
        relatedEntities=[{"id": new_id(), "targetType": "asset", "description": "No deadline"}],
    )
    due = submitted_case(client, name="Due soon")
    late = submitted_case(client, name="Late")
    db.processes.update_one(
        {"_id": late["id"]},
        {
            "$set": {
                "currentState.dueAt": datetime.now(UTC) - timedelta(days=3),
                "currentState.overdue": True,
            }
        },
    )
    listed = rows(officer)
    assert [row["Case"] for row in listed] == ["Late", "Due soon", "No deadline"]
    assert [row["Time left"] for row in listed] == ["3 days overdue", "5 days left", "No deadline"]
    assert [row["Case"] for row in rows(officer, "?overdue=yes")] == ["Late"]
    assert due["id"]


def test_finished_cases_are_hidden_unless_asked_for(client, officer):
    """A cancelled case leaves the worktray; "Finished cases too" brings it back."""
    process = start(
        client,
        "soletojoint",
        assignment={"patch": "E1"},
        relatedEntities=[{"id": new_id(), "targetType": "asset", "description": "Cancelled case"}],
    )
    assert fire(client, process, "CancelProcess", {"comment": "Withdrawn"}).status_code == 200
    assert rows(officer) == []
    shown = rows(officer, "?final=yes")
    assert [(row["Case"], row["State"], row["Time left"]) for row in shown] == [
        ("Cancelled case", "Cancelled", "Finished")
    ]


def test_filters_live_in_the_url_and_are_shown_as_chosen(client, officer):
    """Filtering by process keeps the choice in the form, so the page can be bookmarked."""
    start(client, "soletojoint", assignment={"patch": "E1"})
    submitted_case(client, name="Name change")
    soup = page(officer.get("/?process=changeofname&sort=updatedAt", headers=HTML))
    assert soup.select_one("select#process option[selected]")["value"] == "changeofname"
    assert soup.select_one("select#sort option[selected]")["value"] == "updatedAt"
    assert [row["Process"] for row in rows(officer, "?process=changeofname")] == ["Change of name"]


def test_assigned_to_me_lists_the_officers_own_cases(app, client):
    """ "Assigned to me" keeps only cases whose officer is the signed-in one."""
    officer = sign_in(app.test_client(), email="me@example.org")
    mine = {"patch": "E1", "officerId": "dev:me@example.org", "officerName": "Me"}
    start(
        client,
        "soletojoint",
        assignment=mine,
        relatedEntities=[{"id": new_id(), "targetType": "asset", "description": "Mine"}],
    )
    start(
        client,
        "soletojoint",
        assignment={"patch": "E1"},
        relatedEntities=[{"id": new_id(), "targetType": "asset", "description": "Not mine"}],
    )
    assert [row["Case"] for row in rows(officer, "?mine=yes")] == ["Mine"]


def test_pages_of_twenty_link_to_the_next(client, officer):
    """More than a page of cases gives a Next page link that shows the rest."""
    for number in range(22):
        start(
            client,
            "soletojoint",
            assignment={"patch": "E1"},
            relatedEntities=[
                {"id": new_id(), "targetType": "asset", "description": f"House {number}"}
            ],
        )
    soup = page(officer.get("/", headers=HTML))
    assert len(soup.select("table.app-worktray tbody tr")) == 20
    next_link = soup.select_one("a[rel=next]")
    assert next_link is not None
    second = page(officer.get(str(next_link["href"]), headers=HTML))
    assert len(second.select("table.app-worktray tbody tr")) == 2
    assert second.select_one("a[rel=next]") is None
    assert "Cases 21 to 22" in text(second.select_one("caption"))


def test_another_patch_in_the_url_is_ignored(client, officer):
    """Asking for a patch that is not the officer's shows their own cases, not that patch's."""
    start(client, "soletojoint", assignment={"patch": "E9"})
    assert rows(officer, "?patch=E9") == []


def test_a_page_token_the_service_did_not_issue_goes_back_to_the_first_page(officer):
    """A mangled `page` in a bookmarked address leads to the first page, filters kept."""
    response = officer.get("/?process=soletojoint&page=not-a-token&n=3", headers=HTML)
    assert response.status_code == 302
    assert response.headers["Location"] == "/?process=soletojoint"
