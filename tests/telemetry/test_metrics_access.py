"""/metrics is for the monitoring system only: a bearer token when METRICS_TOKEN is set,
otherwise clients on the networks of METRICS_ALLOW_FROM (loopback by default)."""

from __future__ import annotations

import pytest
from pymongo.database import Database

from api import create_app

TOKEN = "a-metrics-token-of-at-least-32-bytes-long"


def metrics_app(db: Database, monkeypatch: pytest.MonkeyPatch, **env: str):  # type: ignore[no-untyped-def]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app({"TESTING": True, "MONGO_DB": db.name}, dispatch=lambda *_: [])


def test_loopback_clients_read_metrics_without_a_token(db, monkeypatch):
    """By default a client on 127.0.0.1 reads the metrics, no bearer token of the API needed."""
    response = metrics_app(db, monkeypatch).test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "processes_http_request_duration_seconds" in response.get_data(as_text=True)


def test_clients_of_other_networks_are_refused(db, monkeypatch):
    """A client outside METRICS_ALLOW_FROM gets a 403 problem, and no figures."""
    client = metrics_app(db, monkeypatch).test_client()
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "processes_" not in response.get_data(as_text=True)


def test_with_a_token_set_only_the_token_opens_it(db, monkeypatch):
    """With METRICS_TOKEN, loopback is not enough: only `Authorization: Bearer <token>`."""
    client = metrics_app(db, monkeypatch, METRICS_TOKEN=TOKEN).test_client()
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 403
    right = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert right.status_code == 200


def test_metrics_are_not_in_the_openapi_document(db, monkeypatch):
    """The API's clients are not offered /metrics."""
    spec = metrics_app(db, monkeypatch).test_client().get("/api/v1/openapi.json").get_json()
    assert "/metrics" not in spec["paths"]
