"""A front end on another origin listed in CORS_ORIGINS may call the API; no other may."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from pymongo.database import Database

from api import create_app
from tests.conftest import token
from tests.support import BASE, start, start_body

FRONT_END = "https://housing.example.gov.uk"
PREFLIGHT = {
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "authorization, content-type, if-match, x-correlation-id",
}


@pytest.fixture
def cors_app(db: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The API allowing the front end's origin (and a local one)."""
    monkeypatch.setenv("CORS_ORIGINS", f"{FRONT_END}, http://localhost:3000")
    return create_app({"TESTING": True, "MONGO_DB": db.name}, dispatch=lambda *_: [])


def cors_headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in response.headers.items() if k.startswith("Access-Control-")}


def test_a_preflight_from_the_front_end_is_allowed_without_a_token(cors_app):
    """OPTIONS from a listed origin, with no token, allows its method and the four headers."""
    anonymous = cors_app.test_client()
    response = anonymous.options(
        f"{BASE}/soletojoint/x", headers={"Origin": FRONT_END, **PREFLIGHT}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert allowed == {"authorization", "content-type", "if-match", "x-correlation-id"}
    assert "Origin" in response.headers["Vary"]


def test_the_front_end_reads_the_etag_location_and_correlation_id(cors_app):
    """A real request from a listed origin is allowed and may read the headers it needs; so
    may a 401, so that the front end can tell the user to sign in again."""
    client = cors_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token(cors_app, ['processes-admin'])}"
    origin = {"Origin": FRONT_END}
    created = client.post(BASE, json=start_body("soletojoint"), headers=origin)
    assert created.status_code == 201
    assert created.headers["Access-Control-Allow-Origin"] == FRONT_END
    exposed = {h.strip() for h in created.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"ETag", "Location", "x-correlation-id"}
    refused = cors_app.test_client().get(BASE, headers=origin)
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == FRONT_END


def test_an_origin_not_listed_gets_no_cors_headers(cors_app):
    """Neither a preflight nor a request from another origin is answered with CORS headers."""
    other = {"Origin": "https://evil.example"}
    anonymous = cors_app.test_client()
    preflight = anonymous.options(f"{BASE}/soletojoint/x", headers={**other, **PREFLIGHT})
    assert cors_headers(preflight) == {}
    assert cors_headers(anonymous.get("/api/v1/healthcheck/ping", headers=other)) == {}


def test_by_default_no_origin_is_allowed(client: FlaskClient):
    """Without CORS_ORIGINS, even a request from the front end gets no CORS headers."""
    process = start(client, "soletojoint")
    origin = {"Origin": FRONT_END}
    response = client.get(f"{BASE}/soletojoint/{process['id']}", headers=origin)
    assert response.status_code == 200
    assert cors_headers(response) == {}
    preflight = client.options(
        f"{BASE}/soletojoint/{process['id']}", headers={**origin, **PREFLIGHT}
    )
    assert cors_headers(preflight) == {}
