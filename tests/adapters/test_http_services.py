"""The HTTP adapters against a fake Tenure and Person API served over real HTTP."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from adapters.http_services import RETRIES, HttpPersons, HttpTenures, ServiceRejected
from machines.ports import Ports, RecordNotFound, ServiceUnavailable
from tests.fake_services import FakeServices

TOKEN = "tok-7f3a9c-secret"
TENURE_ID = "7b0f1c2e-3d4a-4b5c-8d6e-0f1a2b3c4d5e"
PERSON_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
ATTEMPTS = int(RETRIES.total) + 1
"""What a request takes to fail for good: the first attempt and the client's retries."""


def tenure(tenure_id: str = TENURE_ID, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": tenure_id,
        "paymentReference": "1234567890",
        "householdMembers": [],
        "tenureType": {"code": "SEC", "description": "Secure"},
        "startOfTenureDate": "2012-04-02",
        "endOfTenureDate": None,
        "isActive": True,
    }
    record.update(overrides)
    return record


def person(person_id: str = PERSON_ID) -> dict[str, Any]:
    return {
        "id": person_id,
        "title": "Mr",
        "firstName": "Alex",
        "middleName": "J",
        "surname": "Morgan",
        "dateOfBirth": "1968-05-17",
    }


@pytest.fixture
def tenures(fake_services: FakeServices) -> HttpTenures:
    return HttpTenures(fake_services.url, TOKEN, timeout=2.0)


@pytest.fixture
def persons(fake_services: FakeServices) -> HttpPersons:
    return HttpPersons(fake_services.url, TOKEN, timeout=2.0)


def test_adapters_fill_ports(tenures: HttpTenures, persons: HttpPersons) -> None:
    """Both adapters can stand as the ports a step uses."""
    ports = Ports(tenures=tenures, persons=persons)
    assert ports.tenures is tenures


def test_tenure_get_returns_record(fake_services: FakeServices, tenures: HttpTenures) -> None:
    """A stored tenure comes back as the API's JSON."""
    fake_services.tenures[TENURE_ID] = tenure()
    assert tenures.get(TENURE_ID) == tenure()
    (request,) = fake_services.requests
    assert (request.method, request.path) == ("GET", f"/api/v1/tenures/{TENURE_ID}")


def test_tenure_get_missing_raises_record_not_found(tenures: HttpTenures) -> None:
    """A 404 means the tenure does not exist."""
    with pytest.raises(RecordNotFound) as caught:
        tenures.get(TENURE_ID)
    assert (caught.value.kind, caught.value.record_id) == ("tenure", TENURE_ID)


def test_person_get_returns_record(fake_services: FakeServices, persons: HttpPersons) -> None:
    """A stored person comes back as the API's JSON."""
    fake_services.persons[PERSON_ID] = person()
    assert persons.get(PERSON_ID) == person()
    assert fake_services.requests[0].path == f"/api/v1/persons/{PERSON_ID}"


def test_person_get_missing_raises_record_not_found(persons: HttpPersons) -> None:
    """A 404 means the person does not exist."""
    with pytest.raises(RecordNotFound) as caught:
        persons.get(PERSON_ID)
    assert caught.value.kind == "person"


def test_id_is_quoted_into_one_path_segment(
    fake_services: FakeServices, tenures: HttpTenures
) -> None:
    """An id cannot reach another endpoint: it is sent as one escaped path segment."""
    with pytest.raises(RecordNotFound):
        tenures.get("../persons/x")
    assert fake_services.requests[0].path == "/api/v1/tenures/..%2Fpersons%2Fx"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_raises_service_unavailable(
    fake_services: FakeServices, tenures: HttpTenures, status: int
) -> None:
    """A 5xx that lasts past the client's own retries may pass later, and the error names
    the request and the status."""
    fake_services.fail_next(ATTEMPTS, status)
    with pytest.raises(ServiceUnavailable) as caught:
        tenures.get(TENURE_ID)
    message = str(caught.value)
    assert f"{fake_services.url}/api/v1/tenures/{TENURE_ID}" in message
    assert str(status) in message


def test_server_error_on_patch_raises_service_unavailable(
    fake_services: FakeServices, persons: HttpPersons
) -> None:
    """Writes map a lasting 5xx the same way as reads."""
    fake_services.persons[PERSON_ID] = person()
    fake_services.fail_next(ATTEMPTS, 503)
    with pytest.raises(ServiceUnavailable):
        persons.update_name(PERSON_ID, {"title": "Ms", "firstName": "A", "surname": "B"})
    assert fake_services.persons[PERSON_ID]["title"] == "Mr"


def test_timeout_raises_service_unavailable(fake_services: FakeServices) -> None:
    """A service slower than the timeout counts as unavailable."""
    fake_services.tenures[TENURE_ID] = tenure()
    fake_services.delay_next(ATTEMPTS, 3.0)
    slow = HttpTenures(fake_services.url, TOKEN, timeout=0.2)
    with pytest.raises(ServiceUnavailable) as caught:
        slow.get(TENURE_ID)
    assert "timed out" in str(caught.value)


def test_refused_connection_raises_service_unavailable() -> None:
    """Nobody listening counts as unavailable, and the error names the URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(ServiceUnavailable) as caught:
        HttpPersons(base, TOKEN, timeout=1.0).get(PERSON_ID)
    assert f"{base}/api/v1/persons/{PERSON_ID}" in str(caught.value)


def test_bad_request_raises_service_rejected(
    fake_services: FakeServices, tenures: HttpTenures
) -> None:
    """A 400 is a refusal that retrying will not change; it carries the service's message."""
    fake_services.tenures[TENURE_ID] = tenure()
    fake_services.fail_next(1, 400, "endOfTenureDate must be after startOfTenureDate.")
    with pytest.raises(ServiceRejected) as caught:
        tenures.end(TENURE_ID, "2001-01-01")
    error = caught.value
    assert isinstance(error, ValueError)
    assert not isinstance(error, ServiceUnavailable)
    assert error.status == 400
    assert error.message == "endOfTenureDate must be after startOfTenureDate."
    assert error.url == f"{fake_services.url}/api/v1/tenures/{TENURE_ID}"


def test_unauthorized_raises_service_rejected() -> None:
    """A wrong token is refused with 401, a rejection."""
    with FakeServices(required_token=TOKEN) as services, pytest.raises(ServiceRejected) as caught:
        HttpTenures(services.url, "wrong-token").get(TENURE_ID)
    assert caught.value.status == 401


def test_requests_carry_token_json_and_correlation_id(
    fake_services: FakeServices,
) -> None:
    """Every request sends the bearer token, JSON content type and the correlation id."""
    fake_services.tenures[TENURE_ID] = tenure()
    client = HttpTenures(fake_services.url, TOKEN).with_correlation_id("corr-1")
    client.get(TENURE_ID)
    client.end(TENURE_ID, "2026-12-01")
    for request in fake_services.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-correlation-id"] == "corr-1"


def test_no_token_sends_no_authorization(fake_services: FakeServices) -> None:
    """Without a token (a local service), no Authorization header is sent."""
    fake_services.persons[PERSON_ID] = person()
    HttpPersons(fake_services.url, None).get(PERSON_ID)
    HttpPersons(fake_services.url, "").get(PERSON_ID)
    assert all("authorization" not in r.headers for r in fake_services.requests)
    assert all("x-correlation-id" not in r.headers for r in fake_services.requests)


@pytest.mark.parametrize("status", [400, 401, 403, 409, 422, 500, 503])
def test_token_never_appears_in_errors(fake_services: FakeServices, status: int) -> None:
    """Even a service that echoes the Authorization header back cannot leak the token."""
    fake_services.fail_next(ATTEMPTS, status, f"Header was Bearer {TOKEN}")
    with pytest.raises((ServiceRejected, ServiceUnavailable)) as caught:
        HttpTenures(fake_services.url, TOKEN).get(TENURE_ID)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value.args)
    assert TOKEN not in getattr(caught.value, "message", "")


def test_token_never_appears_in_timeout_errors(fake_services: FakeServices) -> None:
    """Connection failures do not mention the token either."""
    fake_services.delay_next(ATTEMPTS, 3.0)
    with pytest.raises(ServiceUnavailable) as caught:
        HttpTenures(fake_services.url, TOKEN, timeout=0.2).get(TENURE_ID)
    assert TOKEN not in str(caught.value)


def test_end_patches_end_date(fake_services: FakeServices, tenures: HttpTenures) -> None:
    """Ending a tenure PATCHes only its endOfTenureDate."""
    fake_services.tenures[TENURE_ID] = tenure()
    tenures.end(TENURE_ID, "2026-12-01")
    (request,) = fake_services.requests_to("PATCH")
    assert request.path == f"/api/v1/tenures/{TENURE_ID}"
    assert request.body == {"endOfTenureDate": "2026-12-01"}
    assert fake_services.tenures[TENURE_ID]["endOfTenureDate"] == "2026-12-01"


def test_end_is_idempotent(fake_services: FakeServices, tenures: HttpTenures) -> None:
    """Ending a tenure twice with the same date leaves it as ending it once does."""
    fake_services.tenures[TENURE_ID] = tenure()
    tenures.end(TENURE_ID, "2026-12-01")
    once = dict(fake_services.tenures[TENURE_ID])
    tenures.end(TENURE_ID, "2026-12-01")
    assert fake_services.tenures[TENURE_ID] == once


def test_end_missing_tenure_raises_record_not_found(tenures: HttpTenures) -> None:
    """Ending a tenure the service does not know is a RecordNotFound."""
    with pytest.raises(RecordNotFound):
        tenures.end(TENURE_ID, "2026-12-01")


def test_create_posts_new_tenure(fake_services: FakeServices, tenures: HttpTenures) -> None:
    """A tenure not yet there is looked up, then POSTed with its id."""
    new = tenure(startOfTenureDate="2026-12-01")
    assert tenures.create(new) == new
    assert [(r.method, r.path) for r in fake_services.requests] == [
        ("GET", f"/api/v1/tenures/{TENURE_ID}"),
        ("POST", "/api/v1/tenures"),
    ]
    assert fake_services.requests[1].body == new
    assert fake_services.tenures[TENURE_ID] == new


def test_create_repeated_returns_first_without_second_post(
    fake_services: FakeServices, tenures: HttpTenures
) -> None:
    """Creating the same id again returns the stored tenure and POSTs nothing."""
    first = tenures.create(tenure(paymentReference="first"))
    again = tenures.create(tenure(paymentReference="second"))
    assert again == first
    assert again["paymentReference"] == "first"
    assert len(fake_services.requests_to("POST")) == 1


def test_create_after_conflict_returns_stored(
    fake_services: FakeServices, tenures: HttpTenures
) -> None:
    """If another writer creates the tenure between the look and the POST, theirs is kept."""
    fake_services.tenures[TENURE_ID] = tenure(paymentReference="theirs")
    fake_services.fail_next(1, 404, "Not found.")  # the look misses it
    created = tenures.create(tenure(paymentReference="ours"))
    assert created["paymentReference"] == "theirs"
    assert [r.method for r in fake_services.requests] == ["GET", "POST", "GET"]


def test_create_needs_an_id(tenures: HttpTenures) -> None:
    """A tenure without an id cannot be created idempotently, so it is refused."""
    with pytest.raises(ValueError, match="id"):
        tenures.create({"paymentReference": "1"})


def test_update_name_patches_four_fields(
    fake_services: FakeServices, persons: HttpPersons
) -> None:
    """The new name is PATCHed as title, firstName, middleName and surname."""
    fake_services.persons[PERSON_ID] = person()
    name = {"title": "Dr", "firstName": "Alexandra", "middleName": "Jo", "surname": "Khan"}
    persons.update_name(PERSON_ID, name)
    (request,) = fake_services.requests_to("PATCH")
    assert request.path == f"/api/v1/persons/{PERSON_ID}"
    assert request.body == name
    assert persons.get(PERSON_ID) == {**person(), **name}


def test_update_name_without_middle_name_clears_it(
    fake_services: FakeServices, persons: HttpPersons
) -> None:
    """A name without a middle name sends middleName null."""
    fake_services.persons[PERSON_ID] = person()
    persons.update_name(PERSON_ID, {"title": "Ms", "firstName": "Sam", "surname": "Lee"})
    assert fake_services.requests_to("PATCH")[0].body == {
        "title": "Ms",
        "firstName": "Sam",
        "middleName": None,
        "surname": "Lee",
    }


def test_update_name_missing_person_raises_record_not_found(persons: HttpPersons) -> None:
    """Renaming a person the service does not know is a RecordNotFound."""
    with pytest.raises(RecordNotFound):
        persons.update_name(PERSON_ID, {"title": "Mr", "firstName": "A", "surname": "B"})


def test_a_brief_outage_is_retried_on_one_pooled_connection(
    fake_services: FakeServices, tenures: HttpTenures
) -> None:
    """A 503 and a 502 in a row are retried, the third attempt succeeds, and every attempt
    after the first reuses the pool's connection."""
    fake_services.tenures[TENURE_ID] = tenure()
    fake_services.fail_next(2, 503)
    assert tenures.get(TENURE_ID)["id"] == TENURE_ID
    assert len(fake_services.requests_to("GET")) == 3
    tenures.get(TENURE_ID)
    ports = {r.client_port for r in fake_services.requests}
    assert len(ports) == 1


def test_a_create_that_reached_the_service_is_not_sent_twice(
    fake_services: FakeServices, tenures: HttpTenures
) -> None:
    """A POST answered 503 is not repeated by the client (it may have been applied); the
    step's own retry looks first, then creates."""
    fake_services.tenures[TENURE_ID] = tenure()
    fake_services.fail_next(1, 404)  # the look before creating finds nothing
    fake_services.fail_next(1, 503)
    with pytest.raises(ServiceUnavailable):
        tenures.create(tenure("9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"))
    assert len(fake_services.requests_to("POST")) == 1
