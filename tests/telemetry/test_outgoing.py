"""The correlation id of the running request or task goes out with calls to the Tenure and
Person APIs."""

from __future__ import annotations

from adapters.http_services import HttpPersons, HttpTenures
from telemetry import context
from tests.fake_services import FakeServices


def test_calls_made_for_a_request_carry_its_correlation_id(fake_services: FakeServices):
    """A client made once per process (as the worker makes them) sends the id bound for the
    task it is working for, a different one for each task, and none outside a task."""
    fake_services.tenures["t-1"] = {"id": "t-1"}
    fake_services.persons["p-1"] = {"id": "p-1"}
    tenures = HttpTenures(fake_services.url, "token")
    persons = HttpPersons(fake_services.url, "token")
    try:
        for correlation_id in ("corr-a", "corr-b"):
            context.clear()
            context.bind(correlationId=correlation_id)
            tenures.get("t-1")
            persons.get("p-1")
        context.clear()
        tenures.get("t-1")
    finally:
        context.clear()
    sent = [request.headers.get("x-correlation-id") for request in fake_services.requests]
    assert sent == ["corr-a", "corr-a", "corr-b", "corr-b", None]
