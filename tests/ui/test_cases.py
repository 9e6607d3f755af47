"""The case page, trigger forms, Check your answers, documents and starting a case."""

from __future__ import annotations

from storage.local_services import DEMO_PROPOSED_TENANT_ID, DEMO_SOLE_TENURE_ID, seed_demo
from tests.support import BASE, body_of, fire, new_id, start
from tests.ui.pages import HTML, MANAGER, errors, page, post, sign_in, submit, text

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TO_INVESTIGATED = [
    ("EnterNewName", {"title": "Mr", "firstName": "Al", "surname": "Li"}),
    ("RequestDocumentsDes", {}),
    (
        "ReviewDocuments",
        {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
    ),
    ("SubmitApplication", {}),
    ("TenureInvestigation", {"tenureInvestigationRecommendation": "approve"}),
]


def name_change(client, upto: int = 0, patch: str = "E1") -> dict:  # type: ignore[no-untyped-def]
    """A change of name case on `patch`, moved through the first `upto` steps by the API."""
    process = start(
        client,
        "changeofname",
        assignment={"patch": patch},
        relatedEntities=[
            {
                "id": new_id(),
                "targetType": "person",
                "subType": "tenant",
                "description": "Al Smith",
            }
        ],
    )
    for trigger, form in TO_INVESTIGATED[:upto]:
        assert fire(client, process, trigger, form, [new_id()]).status_code == 200
    return process


def url(process: dict, tail: str = "") -> str:
    return f"/cases/{process['processName']}/{process['id']}{tail}"


def stored(client, process: dict) -> dict:  # type: ignore[no-untyped-def]
    return body_of(client.get(f"{BASE}/{process['processName']}/{process['id']}"))


def buttons(soup) -> list[str]:  # type: ignore[no-untyped-def]
    return [text(a) for a in soup.select("ul.app-actions a.govuk-button")]


def test_officer_waits_for_the_area_manager_who_gets_the_decision_button(app, client, officer):
    """After the tenure investigation an officer sees who the decision waits for; a manager
    sees the button for it."""
    process = name_change(client, upto=5)
    soup = page(officer.get(url(process), headers=HTML))
    assert "Record the area housing manager's decision" not in buttons(soup)
    assert "Book an interview with the applicant" in buttons(soup)
    assert "Waiting for an area manager's decision" in text(soup)
    manager = sign_in(app.test_client(), MANAGER, name="Mo Manager")
    assert "Record the area housing manager's decision" in buttons(
        page(manager.get(url(process), headers=HTML))
    )
    assert officer.get(url(process, "/HOApproval"), headers=HTML).status_code == 409


def test_case_page_summarises_the_case_and_its_history(client, officer):
    """Summary, state in words, and history newest first with what was entered."""
    process = name_change(client, upto=1)
    soup = page(officer.get(url(process), headers=HTML))
    assert len(soup.select("h1")) == 1
    summary = text(soup.select_one(".govuk-summary-list"))
    assert "Al Smith (tenant)" in summary
    assert "E1" in summary
    assert "New name entered" in summary
    history = [text(h) for h in soup.select(".app-timeline h3")]
    assert history[:2] == ["New name entered", "Enter the new name"]
    first = text(soup.select_one(".app-timeline__item"))
    assert "Title Mr" in first
    assert "First name Al" in first


def test_another_patch_case_is_neither_shown_nor_changed(client, officer):
    """A case on another patch is a 403 page, and posting its form changes nothing."""
    process = name_change(client, patch="E9")
    assert officer.get(url(process), headers=HTML).status_code == 403
    form = page(officer.get("/", headers=HTML))
    response = post(
        officer,
        url(process, "/EnterNewName"),
        form,
        {"version": "0", "title": "Mr", "firstName": "A", "surname": "B"},
    )
    assert response.status_code == 403
    assert stored(client, process)["version"] == 0


def test_invalid_answers_show_the_error_summary_and_keep_what_was_typed(client, officer):
    """A missing first name: "Error:" title, one message linked to the field, answers kept."""
    process = name_change(client)
    response = submit(
        officer,
        url(process, "/EnterNewName"),
        {"title": "Ms", "firstName": "", "surname": "Okafor", "middleName": "Ada"},
    )
    assert response.status_code == 422
    soup = page(response)
    assert soup.title is not None
    assert soup.title.text.startswith("Error: Enter the tenant's new name")
    assert errors(soup) == {"firstName": "Enter the new first name"}
    assert text(soup.select_one("#firstName-error")) == "Error: Enter the new first name"
    assert soup.select_one("#surname")["value"] == "Okafor"
    assert soup.select_one("#middleName")["value"] == "Ada"
    assert soup.select_one("#title option[selected]")["value"] == "Ms"
    assert stored(client, process)["currentState"]["state"] == "EnterNewName"


def test_a_valid_form_moves_the_case_on_with_a_banner(client, officer):
    """Sending the new name returns to the case, which says so and is at its next state."""
    process = name_change(client)
    response = submit(
        officer,
        url(process, "/EnterNewName"),
        {"title": "Ms", "firstName": "Ada", "surname": "Okafor"},
    )
    assert response.status_code == 302
    soup = page(officer.get(response.headers["Location"], headers=HTML))
    assert "Enter the tenant's new name: done." in text(
        soup.select_one(".govuk-notification-banner")
    )
    body = stored(client, process)
    assert body["currentState"]["state"] == "NameSubmitted"
    assert body["currentState"]["processData"]["formData"] == {
        "title": "Ms",
        "firstName": "Ada",
        "surname": "Okafor",
    }


def test_a_case_changed_meanwhile_says_so_and_keeps_the_answers(client, officer):
    """If someone else changes the case first, nothing is sent and the typed answers stay."""
    process = name_change(client)
    form = page(officer.get(url(process, "/EnterNewName"), headers=HTML))
    reassigned = client.patch(
        f"{BASE}/changeofname/{process['id']}",
        json={"assignment": {"patch": "E1", "officerName": "Jo"}},
    )
    assert reassigned.status_code == 200
    response = post(
        officer,
        url(process, "/EnterNewName"),
        form,
        {"title": "Dr", "firstName": "Ada", "surname": "Okafor"},
    )
    assert response.status_code == 409
    soup = page(response)
    assert "Someone else changed this case" in text(soup.select_one(".govuk-error-summary"))
    assert soup.select_one("#firstName")["value"] == "Ada"
    assert soup.select_one("input[name=version]")["value"] == str(
        stored(client, process)["version"]
    )
    assert stored(client, process)["currentState"]["state"] == "EnterNewName"
    again = post(
        officer,
        url(process, "/EnterNewName"),
        soup,
        {"title": "Dr", "firstName": "Ada", "surname": "Okafor"},
    )
    assert again.status_code == 302


def test_irreversible_triggers_are_checked_before_they_are_sent(client, officer):
    """Cancelling shows Check your answers first; only confirming cancels the case."""
    process = name_change(client)
    response = submit(
        officer,
        url(process, "/CancelProcess"),
        {"comment": "The tenant withdrew", "hasNotifiedResident": "yes"},
    )
    soup = page(response)
    assert text(soup.select_one("h1")) == "Check your answers"
    assert "Why is the case being cancelled? The tenant withdrew" in text(soup.select_one("dl"))
    assert stored(client, process)["currentState"]["state"] == "EnterNewName"
    changed = page(post(officer, url(process, "/CancelProcess"), soup, {"change": "yes"}))
    assert text(changed.select_one("#comment")) == "The tenant withdrew"
    done = post(officer, url(process, "/CancelProcess"), soup, {"confirmed": "yes"})
    assert done.status_code == 302
    assert stored(client, process)["currentState"]["state"] == "ProcessCancelled"


def test_a_date_that_does_not_exist_is_refused_on_the_day_field(client, officer):
    """31 February is not a real date: the message links to the day input."""
    process = name_change(client, upto=5)
    response = submit(
        officer,
        url(process, "/ScheduleInterview"),
        {
            "appointmentDateTime-day": "31",
            "appointmentDateTime-month": "2",
            "appointmentDateTime-year": "2027",
            "appointmentDateTime-hour": "10",
            "appointmentDateTime-minute": "30",
        },
    )
    assert response.status_code == 422
    soup = page(response)
    assert list(errors(soup)) == ["appointmentDateTime-day"]
    assert soup.select_one("#appointmentDateTime-day")["value"] == "31"
    ok = post(
        officer,
        url(process, "/ScheduleInterview"),
        soup,
        {
            "appointmentDateTime-day": "28",
            "appointmentDateTime-month": "2",
            "appointmentDateTime-year": "2027",
            "appointmentDateTime-hour": "10",
            "appointmentDateTime-minute": "30",
        },
    )
    assert ok.status_code == 302
    entered = stored(client, process)["currentState"]["processData"]["formData"]
    assert entered == {"appointmentDateTime": "2027-02-28T10:30:00"}


def test_documents_are_uploaded_downloaded_and_removed_after_confirming(client, officer):
    """A PDF uploaded on the case page is listed, downloads as sent, and is removed on confirm."""
    process = name_change(client)
    soup = page(officer.get(url(process), headers=HTML))
    uploaded = post(
        officer,
        url(process, "/documents"),
        soup,
        {"file": (__import__("io").BytesIO(PDF), "deed-poll.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    soup = page(officer.get(url(process), headers=HTML))
    link = soup.select_one(".app-documents a[download]")
    assert text(link) == "deed-poll.pdf"
    assert officer.get(str(link["href"])).data == PDF
    remove = soup.select_one(".app-documents a[href$='/remove']")
    confirm = page(officer.get(str(remove["href"]), headers=HTML))
    assert text(confirm.select_one("h1")) == "Are you sure you want to remove deed-poll.pdf?"
    assert post(officer, str(remove["href"]), confirm, {}).status_code == 302
    after = page(officer.get(url(process), headers=HTML))
    assert "No documents have been uploaded." in text(after)
    assert "Document removed" in [text(h) for h in after.select(".app-timeline h3")]


def test_an_upload_of_the_wrong_kind_is_refused_on_the_file_field(client, officer):
    """A text file is not a document type the service takes: the page says which are."""
    process = name_change(client)
    soup = page(officer.get(url(process), headers=HTML))
    response = post(
        officer,
        url(process, "/documents"),
        soup,
        {"file": (__import__("io").BytesIO(b"just text"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert errors(page(response)) == {
        "file": "The selected file must be a PDF, JPEG, PNG, HEIC, DOCX"
    }


def test_a_running_step_says_so_and_a_failed_one_can_be_tried_again(client, officer, db):
    """While eligibility is checked the page says so; a failure shows its reason and Try again."""
    seed_demo(db)
    process = start(
        client, "soletojoint", targetId=DEMO_SOLE_TENURE_ID, assignment={"patch": "E1"}
    )
    fired = fire(
        client, process, "CheckAutomatedEligibility", {"incomingTenantId": DEMO_PROPOSED_TENANT_ID}
    )
    assert fired.status_code == 200
    soup = page(officer.get(url(process), headers=HTML))
    status = soup.select_one("[role=status]")
    assert "Checking eligibility…" in text(status)
    assert officer.get(url(process, "/status")).get_json()["version"] == 1
    db.processes.update_one(
        {"_id": process["id"]},
        {
            "$set": {
                "currentState.automation.status": "failed",
                "currentState.automation.reason": "Tenure not found.",
            }
        },
    )
    soup = page(officer.get(url(process), headers=HTML))
    assert "Tenure not found." in text(soup.select_one(".govuk-error-summary"))
    retried = post(officer, url(process, "/retry"), soup, {})
    assert retried.status_code == 302
    assert stored(client, process)["currentState"]["automation"]["status"] == "queued"


def test_reassigning_records_the_officer(client, officer):
    """Taking a case ("Me") shows the officer's name on the case."""
    process = name_change(client)
    response = submit(officer, url(process, "/assign"), {"patch": "E1", "officer": "me"})
    assert response.status_code == 302
    assignment = stored(client, process)["currentState"]["assignment"]
    assert assignment["officerName"] == "Pat Officer"
    assert assignment["officerId"] == "dev:pat.officer@example.org"


def test_a_case_can_be_handed_to_an_officer_who_worked_on_it(app, client, officer):
    """Officers who acted on a case are offered by name; the one chosen is the case's officer.
    Nobody else can be named through the page."""
    process = name_change(client)
    entered = post(
        officer,
        url(process, "/EnterNewName"),
        page(officer.get(url(process, "/EnterNewName"), headers=HTML)),
        {"title": "Mr", "firstName": "Al", "surname": "Li"},
    )
    assert entered.status_code == 302  # Pat Officer entered the new name
    colleague = sign_in(app.test_client(), name="Sam Senior", email="sam.senior@example.org")
    form = page(colleague.get(url(process, "/assign"), headers=HTML))
    offered = {str(i["value"]): text(i.find_next("label")) for i in form.select("[name=officer]")}
    pat = "dev:pat.officer@example.org"
    assert offered[pat] == "Pat Officer"
    assert "dev:sam.senior@example.org" not in offered  # the one reassigning chooses "Me"
    refused = post(colleague, url(process, "/assign"), form, {"officer": "dev:someone-else"})
    assert refused.status_code == 422
    handed = post(colleague, url(process, "/assign"), form, {"patch": "E1", "officer": pat})
    assert handed.status_code == 302
    assignment = stored(client, process)["currentState"]["assignment"]
    assert (assignment["officerId"], assignment["officerName"]) == (pat, "Pat Officer")


def test_starting_a_case_shows_the_household_and_needs_consent(client, officer, db):
    """The start page names the tenure's people; without consent nothing starts; with it the
    new case opens with the tenant as a related person."""
    seed_demo(db)
    start_url = f"/start/soletojoint?targetId={DEMO_SOLE_TENURE_ID}"
    soup = page(officer.get(start_url, headers=HTML))
    assert "Flat 3, 12 Mare Street, London, E8 1AA" in text(soup)
    assert "Sam Morgan" in text(soup.select_one("table"))
    refused = post(officer, "/start/soletojoint", soup, {"patch": "E1"})
    assert refused.status_code == 422
    assert list(errors(page(refused))) == ["consent"]
    started = post(officer, "/start/soletojoint", soup, {"patch": "E1", "consent": "yes"})
    assert started.status_code == 302
    case = page(officer.get(started.headers["Location"], headers=HTML))
    assert "Alex Morgan (tenant)" in text(case.select_one(".govuk-summary-list"))
    assert "Choose the proposed joint tenant" in buttons(case)
    choose = page(
        officer.get(started.headers["Location"] + "/CheckAutomatedEligibility", headers=HTML)
    )
    people = [text(label) for label in choose.select(".govuk-radios__label")]
    assert people == ["Sam Morgan (born 3 September 1972)", "Jordan Ellis (born 28 November 1980)"]
    assert [i["name"] for i in choose.select(".govuk-radios__input")] == ["incomingTenantId"] * 2


def test_start_list_offers_the_processes_an_officer_may_start(officer):
    """Every process the policy lets housing officers start is offered."""
    soup = page(officer.get("/start", headers=HTML))
    assert [text(a) for a in soup.select("main ul a")] == [
        "Change of name",
        "Sole to joint tenancy",
        "Tenancy audit visit",
    ]


def test_documents_of_another_patch_case_can_be_neither_read_nor_added(client, officer):
    """Upload and removal pages of a case on another patch are 403, and nothing is attached."""
    process = name_change(client, patch="E9")
    soup = page(officer.get("/", headers=HTML))
    upload = post(
        officer,
        url(process, "/documents"),
        soup,
        {"file": (__import__("io").BytesIO(PDF), "sneaky.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 403
    assert (
        officer.get(url(process, f"/documents/{new_id()}/remove"), headers=HTML).status_code == 403
    )
    assert stored(client, process)["currentState"]["processData"]["documents"] == []


def test_the_name_form_asks_in_reading_order(client, officer):
    """Middle names come between first and last name, whatever the schema's required list."""
    process = name_change(client)
    soup = page(officer.get(url(process, "/EnterNewName"), headers=HTML))
    names = [
        field["name"] for field in soup.select("main form select, main form input[type=text]")
    ]
    assert names == ["title", "firstName", "middleName", "surname"]


def test_an_unexpected_failure_is_a_plain_error_page(client, officer, monkeypatch):
    """A bug behind the case page shows the 500 page, never a stack trace."""
    from services import casework

    def broken(*args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(casework, "target", broken)
    process = name_change(client)
    response = officer.get(url(process), headers=HTML)
    assert response.status_code == 500
    body = text(page(response))
    assert "Sorry, there is a problem with the service" in body
    assert "secret internals" not in body
    assert "Traceback" not in body
