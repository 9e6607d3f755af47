"""Officers drive whole cases through the pages in a real browser, automated steps included.

Every page state met on the way is checked with axe-core (WCAG 2.2 AA), and no request
leaves 127.0.0.1 (the `officer_page` fixture).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from storage.local_services import DEMO_TENANT_ID
from storage.mongo import database
from tests.ui.browser.conftest import check_accessibility, screenshot

STEP_TIMEOUT_MS = 30_000
"""How long to wait for a worker to finish an automated step (it is usually under a second)."""
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Officer:
    """An officer at the browser: each page they reach is checked for accessibility."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def sees(self, heading: str, state: str) -> None:
        expect(self.page.locator("h1")).to_have_text(heading)
        check_accessibility(self.page, state)

    def sign_in(self, name: str, groups: str) -> None:
        self.page.goto("/")
        self.sees("Sign in to manage casework", "the sign-in page")
        self.page.get_by_role("link", name="Sign in with a development account").click()
        self.sees("Sign in with a development account", "the development sign-in")
        self.page.get_by_label("Name").fill(name)
        self.page.get_by_label("Email address").fill(f"{name.split()[0].lower()}@example.org")
        self.page.get_by_label("Groups").fill(groups)
        self.page.get_by_role("button", name="Sign in").click()
        self.sees("Your worktray", "the worktray")

    def act(self, button: str, heading: str | None = None) -> None:
        """Press one of "What you can do next" and land on its form."""
        self.page.get_by_role("button", name=button).or_(
            self.page.get_by_role("link", name=button)
        ).first.click()
        self.sees(heading or button, f"the form {button}")

    def send(self, button: str, done: str) -> None:
        """Send the form, and see the case say it was done."""
        self.page.get_by_role("button", name=button).click()
        expect(self.page.locator(".govuk-notification-banner")).to_contain_text(done)
        check_accessibility(self.page, f"the case after {button}")

    def answer(self, question: str, choice: str) -> None:
        self.page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()

    def date(
        self, prefix: str, day: str, month: str, year: str, time: tuple[str, str] | None = None
    ) -> None:
        self.page.locator(f"#{prefix}-day").fill(day)
        self.page.locator(f"#{prefix}-month").fill(month)
        self.page.locator(f"#{prefix}-year").fill(year)
        if time:
            self.page.locator(f"#{prefix}-hour").fill(time[0])
            self.page.locator(f"#{prefix}-minute").fill(time[1])

    def upload(self, tmp_path: Path, name: str) -> None:
        file = tmp_path / name
        file.write_bytes(PDF)
        self.page.get_by_label("Upload a document").set_input_files(str(file))
        self.page.get_by_role("button", name="Upload", exact=True).click()
        expect(self.page.locator(".app-documents")).to_contain_text(name)
        check_accessibility(self.page, "the case with a document")

    def state(self, words: str) -> None:
        """Wait for the case to reach `words` (the page reloads itself after a step)."""
        expect(self.page.locator("main .govuk-tag").first).to_have_text(
            words, timeout=STEP_TIMEOUT_MS
        )
        check_accessibility(self.page, f"the case at {words}")

    def check_and_confirm(self, confirm: str) -> None:
        self.page.get_by_role("button", name="Continue").click()
        self.sees("Check your answers", "Check your answers")
        self.page.get_by_role("button", name=confirm).click()


def test_officer_walks_a_change_of_name_to_the_new_name(
    officer_page: Page, tmp_path, settings, worker_db_name
):
    """Start, a validation error fixed, documents, investigation, approval, signing, and the
    worker writing the new name to the person record."""
    officer = Officer(officer_page)
    officer.sign_in("Morgan Manager", "area-managers\npatch:E1")
    officer_page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Start a case"
    ).click()
    officer.sees("Start a case", "the list of processes")
    officer_page.get_by_role("link", name="Change of name").click()
    officer.sees("Start a change of name case", "the start page")
    officer_page.get_by_role("link", name="Alex Morgan, tenant of Flat 3, 12 Mare Street").click()
    officer.sees("Start a change of name case", "the start page for Alex Morgan")
    screenshot(officer_page, "start")
    officer_page.get_by_role("button", name="Start the case").click()
    officer.sees("Start a change of name case", "the start page without consent")
    expect(officer_page.locator(".govuk-error-summary")).to_contain_text(
        "Confirm that you have told"
    )
    officer_page.get_by_label("I have told the resident").check()
    officer_page.get_by_role("button", name="Start the case").click()
    expect(officer_page.locator(".govuk-notification-banner")).to_contain_text("case started")
    officer.state("Enter the new name")

    officer.act("Enter the tenant's new name")
    officer_page.get_by_label("Title").select_option("Mrs")
    officer_page.get_by_label("Last name").fill("Morgan-Reid")
    officer_page.get_by_role("button", name="Enter the tenant's new name").click()
    expect(officer_page).to_have_title(
        "Error: Enter the tenant's new name – Manage casework – Hackney"
    )
    check_accessibility(officer_page, "the name form with an error")
    screenshot(officer_page, "validation-error")
    officer_page.locator(".govuk-error-summary a").click()
    expect(officer_page.get_by_label("First name")).to_be_focused()
    expect(officer_page.get_by_label("Last name")).to_have_value("Morgan-Reid")
    officer_page.get_by_label("First name").fill("Alexandra")
    officer.send("Enter the tenant's new name", "done")
    officer.state("New name entered")

    officer.act("Request documents through the evidence store")
    officer.send("Request documents through the evidence store", "done")
    officer.upload(tmp_path, "marriage-certificate.pdf")
    officer.act("Check the supporting documents")
    for label in officer_page.locator("main form .govuk-checkboxes__label").all():
        label.click()
    officer.send("Check the supporting documents", "done")
    officer.act("Submit the case for tenure investigation")
    officer.send("Submit the case for tenure investigation", "done")
    officer.act("Record the tenure investigation")
    officer.answer("What does the tenure investigator recommend?", "Approve")
    officer.send("Record the tenure investigation", "done")
    officer.state("Tenure investigation recommends approval")
    screenshot(officer_page, "case")

    officer.act("Record the area housing manager's decision")
    officer.answer("What has the area housing manager decided?", "Approve the application")
    officer_page.get_by_label("Name of the area housing manager").fill("Morgan Manager")
    officer_page.get_by_role("button", name="Continue").click()
    officer.sees("Check your answers", "Check your answers for the decision")
    screenshot(officer_page, "check-your-answers")
    officer_page.get_by_role(
        "button", name="Confirm: record the area housing manager's decision"
    ).click()
    officer.state("Approved by the area housing manager")

    officer.act("Book the appointment to sign the new tenancy")
    officer.date("appointmentDateTime", "15", "1", "2030", ("10", "30"))
    officer.send("Book the appointment to sign the new tenancy", "done")
    officer.act("Change the name on the tenant's record")
    officer_page.get_by_label("I confirm that an outcome letter has been sent").check()
    officer.check_and_confirm("Confirm: change the name on the tenant's record")
    officer.state("Name changed: case complete")
    person = database(settings.mongo_uri, worker_db_name)["persons"].find_one(
        {"_id": DEMO_TENANT_ID}
    )
    assert person is not None
    assert (person["title"], person["firstName"], person["surname"]) == (
        "Mrs",
        "Alexandra",
        "Morgan-Reid",
    )


def test_officer_walks_a_sole_to_joint_case_to_the_new_tenancy(
    officer_page: Page, tmp_path, settings, worker_db_name
):
    """Found in the worktray; eligibility checked by the worker while the page waits; the
    tenure ended and the joint one created by the worker; the case completed."""
    officer = Officer(officer_page)
    officer.sign_in("Jo Manager", "area-managers, patch:E1")
    officer_page.goto("/start/soletojoint")
    officer.sees("Start a sole to joint tenancy case", "the start page")
    officer_page.get_by_role("link", name="Flat 3, 12 Mare Street (secure, sole tenancy)").click()
    officer_page.get_by_label("I have told the resident").check()
    officer_page.get_by_role("button", name="Start the case").click()
    officer.state("Select the proposed joint tenant")

    officer_page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Worktray"
    ).click()
    officer.sees("Your worktray", "the worktray with the new case")
    screenshot(officer_page, "worktray")
    officer_page.get_by_label("Process").select_option("soletojoint")
    officer_page.get_by_role("button", name="Apply filters").click()
    officer_page.get_by_role(
        "link", name="Alex Morgan, Flat 3, 12 Mare Street, London, E8 1AA"
    ).first.click()
    officer.state("Select the proposed joint tenant")

    officer.act("Choose the proposed joint tenant")
    officer_page.get_by_label("Sam Morgan").check()
    officer_page.get_by_role("button", name="Choose the proposed joint tenant").click()
    officer.state("Passed the automatic eligibility checks")
    expect(officer_page.locator("#eligibility ~ table")).to_contain_text(
        "The proposed tenant is an adult."
    )

    officer.act("Answer the further eligibility questions")
    for question in officer_page.locator("main form fieldset").all():
        legend = question.locator("legend").inner_text()
        together = legend.startswith("Have the tenant and the proposed tenant lived together")
        if legend.startswith("If so, what"):
            continue
        question.get_by_label("Yes" if together else "No", exact=True).check()
    officer.send("Answer the further eligibility questions", "done")
    officer.act("Check for tenancy breaches")
    for question in officer_page.locator("main form fieldset").all():
        question.get_by_label("No", exact=True).check()
    officer.send("Check for tenancy breaches", "done")
    officer.state("Passed the tenancy breach checks")

    officer.act("Book an appointment to see the documents")
    officer.date("appointmentDateTime", "3", "12", "2029", ("14", "00"))
    officer.send("Book an appointment to see the documents", "done")
    officer.upload(tmp_path, "proof-of-address.pdf")
    officer.act("Check the supporting documents")
    for label in officer_page.locator("main form .govuk-checkboxes__label").all():
        label.click()
    officer.send("Check the supporting documents", "done")
    officer.act("Submit the case for tenure investigation")
    officer.send("Submit the case for tenure investigation", "done")
    officer.act("Record the tenure investigation")
    officer.answer("What does the tenure investigator recommend?", "Approve")
    officer.send("Record the tenure investigation", "done")
    officer.act("Record the area housing manager's decision")
    officer.answer("What has the area housing manager decided?", "Approve the application")
    officer_page.get_by_label("Name of the area housing manager").fill("Jo Manager")
    officer.check_and_confirm("Confirm: record the area housing manager's decision")
    officer.state("Approved by the area housing manager")
    officer.act("Book the appointment to sign the new tenancy")
    officer.date("appointmentDateTime", "10", "1", "2030", ("9", "15"))
    officer.send("Book the appointment to sign the new tenancy", "done")

    officer.act("Create the new joint tenancy")
    officer.date("tenureStartDate", "14", "1", "2030")
    officer.check_and_confirm("Confirm: create the new joint tenancy")
    officer.state("New tenancy created")
    officer.act("Complete the case")
    officer_page.get_by_label("I confirm that an outcome letter has been sent").check()
    officer.check_and_confirm("Confirm: complete the case")
    officer.state("Complete")
    tenures = database(settings.mongo_uri, worker_db_name)["tenures"]
    joint = [t for t in tenures.find({"startOfTenureDate": "2030-01-14"})]
    assert len(joint) == 1
    responsible = sorted(m["fullName"] for m in joint[0]["householdMembers"] if m["isResponsible"])
    assert responsible == ["Alex Morgan", "Sam Morgan"]
