"""Pagination tokens are opaque and signed: a tampered, forged or foreign token is a 400
naming paginationToken, whatever dates it carries, and real tokens page as before."""

from __future__ import annotations

import base64
import json

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from tests.support import BASE, new_id, start

SALT = "processes.pagination"


def listing(client: FlaskClient, query: str):  # type: ignore[no-untyped-def]
    return client.get(f"{BASE}?{query}")


def assert_bad_token(response) -> None:  # type: ignore[no-untyped-def]
    problem = response.get_json()
    assert response.status_code == 400, problem
    assert response.content_type.startswith("application/problem+json")
    assert [e["field"] for e in problem["errors"]] == ["paginationToken"]


def signed(app, data: object) -> str:  # type: ignore[no-untyped-def]
    """A token signed with the deployment's own key, as only the service could make."""
    key = app.extensions["settings"].secret_key
    return URLSafeSerializer(key, salt=SALT).dumps(data)


def first_page_token(client: FlaskClient, sort: str = "createdAt") -> tuple[str, str]:
    target = new_id()
    for _ in range(3):
        start(client, "changeofname", targetId=target)
    response = listing(client, f"targetId={target}&pageSize=2&sort={sort}")
    token = response.get_json()["paginationDetails"]["nextToken"]
    assert token
    return target, token


def test_real_tokens_page_through_a_listing(client: FlaskClient):
    """The token of the first page brings the rest, and the last page has none."""
    target, token = first_page_token(client)
    second = listing(client, f"targetId={target}&pageSize=2&paginationToken={token}").get_json()
    assert len(second["results"]) == 1
    assert second["paginationDetails"]["nextToken"] is None


def test_a_tampered_token_is_refused(client: FlaskClient):
    """Changing one character of a real token makes it invalid."""
    target, token = first_page_token(client)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert_bad_token(listing(client, f"targetId={target}&paginationToken={flipped}"))


def test_an_unsigned_token_is_refused(client: FlaskClient):
    """A token made by a client (the JSON a token once was, base64-encoded) is refused."""
    raw = json.dumps({"s": "createdAt", "v": "9999-12-31T23:59:59-14:00", "i": new_id()})
    forged = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert_bad_token(listing(client, f"paginationToken={forged}"))


def test_a_token_of_another_deployment_is_refused(client: FlaskClient, app):  # type: ignore[no-untyped-def]
    """Tokens are bound to the key that made them."""
    other = URLSafeSerializer("another deployment's secret key, 32+ bytes", salt=SALT)
    token = other.dumps({"s": "createdAt", "v": "2026-01-01T00:00:00+00:00", "i": new_id()})
    assert_bad_token(listing(client, f"paginationToken={token}"))


@pytest.mark.parametrize(
    ("sort", "moment"),
    [
        ("createdAt", "9999-12-31T23:59:59-14:00"),
        ("createdAt", "0001-01-01T00:00:00+00:00"),
        ("updatedAt", "0001-01-01T00:00:00+14:00"),
        ("dueAt", "9999-12-31T23:59:59.999999+00:00"),
        ("dueAt", "2026-01-01T00:00:00"),
    ],
)
def test_signed_tokens_carrying_dates_out_of_range_are_refused(
    client: FlaskClient, app, sort: str, moment: str
):  # type: ignore[no-untyped-def]
    """Even a correctly signed token cannot send the store a date at the edge of the
    calendar (or without an offset): 400, never a 500."""
    token = signed(app, {"s": sort, "v": moment, "i": new_id()})
    assert_bad_token(listing(client, f"sort={sort}&paginationToken={token}"))


@pytest.mark.parametrize(
    "data",
    [
        {"s": "createdAt", "v": "2026-01-01T00:00:00+00:00", "i": 7},
        {"s": "createdAt", "v": "2026-01-01T00:00:00+00:00", "i": "x" * 65},
        {"s": "createdAt", "v": None, "i": "x"},
        {"s": "createdAt", "v": "yesterday", "i": "x"},
        ["createdAt", "2026-01-01T00:00:00+00:00", "x"],
        "createdAt",
    ],
)
def test_signed_tokens_of_the_wrong_shape_are_refused(client: FlaskClient, app, data):  # type: ignore[no-untyped-def]
    """Every value a token carries is checked, not just its signature."""
    assert_bad_token(listing(client, f"paginationToken={signed(app, data)}"))


def test_a_token_is_bound_to_its_sort(client: FlaskClient):
    """The token of a listing by creation time does not continue one by update time."""
    target, token = first_page_token(client)
    assert_bad_token(listing(client, f"targetId={target}&sort=updatedAt&paginationToken={token}"))
