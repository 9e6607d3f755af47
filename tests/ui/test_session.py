"""Signing in and out of the officer pages, CSRF, and the error pages browsers get."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api import create_app
from api.auth import mint
from tests.ui.pages import HTML, MANAGER, csrf, page, sign_in, text


def test_signed_out_officer_is_sent_to_sign_in(browser_client):
    """A worktray asked for without a session redirects to the sign-in page, remembering it."""
    response = browser_client.get("/?process=soletojoint", headers=HTML)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/?process%3Dsoletojoint"
    assert "Sign in with a development account" in text(page(browser_client.get("/login")))


def test_development_sign_in_sets_a_protected_session_cookie(browser_client):
    """Signing in sets an HttpOnly, SameSite=Lax cookie, and the worktray greets the officer."""
    form = page(browser_client.get("/login/dev", headers=HTML))
    response = browser_client.post(
        "/login/dev",
        data={
            "csrf_token": csrf(form),
            "name": "Sam Green",
            "email": "sam.green@example.org",
            "groups": "housing-officers, patch:E1\npatch:E2",
            "next": "/accessibility",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/accessibility"
    cookie = response.headers["Set-Cookie"]
    assert "officer_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # ends with the token, not a browser session
    worktray = page(browser_client.get("/", headers=HTML))
    assert "Sam Green" in text(worktray.select_one("header"))
    patches = [o["value"] for o in worktray.select("select#patch option")]
    assert patches == ["", "E1", "E2"]


def test_sign_in_refuses_a_missing_name_and_a_bad_email(browser_client):
    """Mistakes in the development form are shown with GOV.UK errors, nothing signed in."""
    form = page(browser_client.get("/login/dev", headers=HTML))
    response = browser_client.post(
        "/login/dev",
        data={"csrf_token": csrf(form), "name": " ", "email": "nope", "groups": ""},
    )
    soup = page(response)
    assert soup.title is not None
    assert soup.title.text.startswith("Error:")
    assert [a["href"] for a in soup.select(".govuk-error-summary a")] == ["#name", "#email"]
    assert browser_client.get("/", headers=HTML).status_code == 302


def test_sign_in_never_sends_the_officer_to_another_site(browser_client):
    """A `next` naming another site is ignored: the officer lands on their worktray."""
    form = page(browser_client.get("/login/dev", headers=HTML))
    response = browser_client.post(
        "/login/dev",
        data={
            "csrf_token": csrf(form),
            "name": "Sam",
            "email": "sam@example.org",
            "groups": "housing-officers",
            "next": "//evil.example/",
        },
    )
    assert response.headers["Location"] == "/"


def test_forms_without_the_csrf_token_are_refused(browser_client):
    """A sign-in posted from elsewhere (no CSRF token) is refused with an HTML page."""
    response = browser_client.post(
        "/login/dev",
        data={"name": "Mallory", "email": "m@example.org", "groups": "processes-admin"},
        headers=HTML,
    )
    assert response.status_code == 400
    assert "did not come from this service" in text(page(response))
    assert browser_client.get("/", headers=HTML).status_code == 302


def test_sign_out_ends_the_session(officer):
    """After signing out, the worktray asks for sign-in again."""
    soup = page(officer.get("/", headers=HTML))
    form = soup.select_one("form[action='/logout']")
    assert form is not None
    response = officer.post("/logout", data={"csrf_token": csrf(form)})
    assert response.headers["Location"] == "/login"
    assert "You have signed out." in text(page(officer.get("/login")))
    assert officer.get("/", headers=HTML).status_code == 302


def test_an_expired_token_in_the_cookie_signs_the_officer_out(app, browser_client):
    """The token in the session is verified on every request: once expired, no more pages."""
    settings = app.extensions["settings"]
    expired = mint(settings, "x", "X", "x@example.org", MANAGER, lifetime=timedelta(minutes=-5))
    with browser_client.session_transaction() as session:
        session["token"] = expired
        session["exp"] = 1
    assert browser_client.get("/", headers=HTML).status_code == 302


def test_the_api_does_not_accept_the_page_cookie(officer):
    """The JSON API stays bearer-only: a signed-in browser without a token gets 401."""
    response = officer.get("/api/v1/process", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_browsers_get_html_error_pages_and_api_clients_problems(browser_client):
    """An unknown address is an HTML 404 for a browser, problem+json for others and the API."""
    html = browser_client.get("/no/such/page", headers=HTML)
    assert html.status_code == 404
    assert text(page(html).select_one("h1")) == "Page not found"
    plain = browser_client.get("/no/such/page", headers={"Accept": "application/json"})
    assert plain.status_code == 404
    assert plain.content_type == "application/problem+json"
    api = browser_client.get("/api/v1/nothing-here", headers=HTML)
    assert api.content_type == "application/problem+json"


def test_accessibility_statement_is_open_to_everyone(browser_client):
    """The statement needs no sign-in, has one h1, a skip link and no sign-out button."""
    soup = page(browser_client.get("/accessibility", headers=HTML))
    assert len(soup.select("h1")) == 1
    assert soup.select_one("a.govuk-skip-link")["href"] == "#main-content"
    assert soup.select_one("form[action='/logout']") is None


def test_development_sign_in_does_not_exist_outside_development_mode(db, monkeypatch):
    """Without DEVELOPMENT_MODE the development sign-in route is not there at all."""
    monkeypatch.setenv("DEVELOPMENT_MODE", "0")
    monkeypatch.setenv("JWT_SECRET", "a-test-jwt-secret-of-at-least-32-bytes!")
    monkeypatch.setenv("SECRET_KEY", "a-test-secret-key-of-at-least-32-bytes!")
    app = create_app({"TESTING": True, "MONGO_DB": db.name}, dispatch=lambda *_: [])
    client = app.test_client()
    assert client.get("/login/dev", headers=HTML).status_code == 404
    login = text(page(client.get("/login", headers=HTML)))
    assert "development account" not in login
    assert "has not been set up" in login


@pytest.mark.parametrize("groups", ["a, b\nc,,a", " a \n\n b ,c "])
def test_groups_are_read_one_a_line_or_comma_separated(groups):
    """Groups typed in the development form may be separated by commas or new lines."""
    from ui.session import parse_groups

    assert parse_groups(groups) == ["a", "b", "c"]


def test_signed_in_officer_sees_their_name_and_groups_scope(app):
    """An area manager's session gives the groups typed: the worktray lists their patch."""
    client = sign_in(app.test_client(), MANAGER, name="Alex Manager")
    soup = page(client.get("/", headers=HTML))
    assert "Alex Manager" in text(soup.select_one("header"))
    assert [o["value"] for o in soup.select("select#patch option")] == ["", "E1"]
