"""Helpers for driving the officer pages through Flask's test client and reading their HTML."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup, Tag
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
OFFICER = ["housing-officers", "patch:E1"]
MANAGER = ["area-managers", "patch:E1"]


def page(response: TestResponse) -> BeautifulSoup:
    """The response's HTML, parsed."""
    assert response.mimetype == "text/html", (response.status_code, response.mimetype)
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def csrf(soup: BeautifulSoup) -> str:
    field = soup.find("input", attrs={"name": "csrf_token"})
    assert isinstance(field, Tag), "no CSRF field on the page"
    return str(field["value"])


def sign_in(
    client: FlaskClient,
    groups: list[str] | None = None,
    name: str = "Pat Officer",
    email: str = "pat.officer@example.org",
) -> FlaskClient:
    """Sign `client` in through the development sign-in page."""
    form = page(client.get("/login/dev", headers=HTML))
    response = client.post(
        "/login/dev",
        data={
            "csrf_token": csrf(form),
            "name": name,
            "email": email,
            "groups": "\n".join(OFFICER if groups is None else groups),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def submit(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> TestResponse:
    """GET the page at `url`, then POST its form with `data` and the page's CSRF token."""
    soup = page(client.get(url, headers=HTML))
    return post(client, url, soup, data or {}, **kwargs)


def post(
    client: FlaskClient, url: str, soup: BeautifulSoup, data: dict[str, Any], **kwargs: Any
) -> TestResponse:
    """POST `data` with the hidden fields of the page's main form (CSRF token, version)."""
    hidden = {}
    for form in soup.select("main form[method=post]"):
        for field in form.select("input[type=hidden]"):
            hidden[str(field["name"])] = str(field.get("value", ""))
        break
    hidden.setdefault("csrf_token", csrf(soup))
    return client.post(url, data={**hidden, **data}, headers=HTML, **kwargs)


def text(soup: BeautifulSoup | Tag) -> str:
    """The visible text, with whitespace collapsed."""
    return " ".join(soup.get_text(" ").split())


def errors(soup: BeautifulSoup) -> dict[str, str]:
    """The error summary's messages by the id of the field they link to."""
    found = {}
    for link in soup.select(".govuk-error-summary__list a"):
        found[str(link["href"]).lstrip("#")] = text(link)
    return found
