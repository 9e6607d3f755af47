"""The HTTP API through Flask's test client, on the real MongoDB-compatible server."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import machines
from api import create_app
from tests.conftest import signed_in
from tests.support import BASE, body_of, fire, new_id, start, start_body, state_of

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
NAME_FORM = {"title": "Ms", "firstName": "Patricia", "middleName": "", "surname": "Williams"}


def url(process: dict[str, Any], suffix: str = "") -> str:
    return f"{BASE}/{process['processName']}/{process['id']}{suffix}"


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status, and leaks no stack trace."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.content_type.startswith("application/problem+json"), response.content_type
    assert "Traceback" not in text
    problem = json.loads(text)
    for key in ("type", "title", "status", "detail"):
        assert key in problem, problem
    assert problem["status"] == status
    assert isinstance(problem["detail"], str)
    assert problem["detail"]
    return problem


def error_fields(response: TestResponse) -> list[str]:
    return [error["field"] for error in response.get_json().get("errors", [])]


def name_submitted(client: FlaskClient) -> dict[str, Any]:
    """A change of name process whose new name has been entered (version 1)."""
    process = start(client, "changeofname")
    response = fire(client, process, "EnterNewName", dict(NAME_FORM))
    assert state_of(response) == "NameSubmitted"
    return body_of(response)


def documents_requested(client: FlaskClient) -> dict[str, Any]:
    process = name_submitted(client)
    response = fire(client, process, "RequestDocumentsDes")
    assert state_of(response) == "DocumentsRequestedDes"
    return body_of(response)


def cancelled(client: FlaskClient) -> dict[str, Any]:
    process = name_submitted(client)
    response = fire(client, process, "CancelProcess", {"comment": "The resident withdrew."})
    assert state_of(response) == "ProcessCancelled"
    return body_of(response)


# --- creating and reading -------------------------------------------------------------------


def test_create_returns_201_location_etag_and_brief_payload(client: FlaskClient):
    """Starting a process answers 201 with Location, ETag "0" and the brief's payload shape."""
    request = start_body("soletojoint", documents=[new_id()])
    response = client.post(BASE, json=request)
    assert response.status_code == 201
    payload = response.get_json()
    assert list(payload) == ["soletojoint"]
    body = payload["soletojoint"]
    assert response.headers["Location"] == f"{BASE}/soletojoint/{body['id']}"  # canonical
    assert response.headers["ETag"] == '"0"'
    assert uuid.UUID(body["id"])
    assert body["processName"] == "soletojoint"
    assert body["targetId"] == request["targetId"]
    assert body["targetType"] == "tenure"
    assert body["relatedEntities"] == request["relatedEntities"]
    assert body["version"] == 0

    current = body["currentState"]
    assert current["state"] == "SelectTenants"
    assert current["permittedTriggers"] == ["CheckAutomatedEligibility", "CancelProcess"]
    assert current["assignment"]["patch"] == "patch1"
    assert current["processData"] == {
        "targetId": request["targetId"],
        "formData": {},
        "documents": request["documents"],
    }
    for moment in (
        current["createdAt"],
        current["updatedAt"],
        body["createdAt"],
        body["updatedAt"],
    ):
        assert ISO_UTC.match(moment), moment

    states = body["processStates"]
    assert [s["state"] for s in states] == ["ApplicationInitialised", "SelectTenants"]
    assert states[-1] == current
    for state in states:
        assert set(state) >= {
            "state",
            "permittedTriggers",
            "assignment",
            "processData",
            "createdAt",
            "updatedAt",
        }
        assert isinstance(state["processData"]["formData"], dict)
        assert ISO_UTC.match(state["createdAt"])
        assert ISO_UTC.match(state["updatedAt"])


def test_create_location_is_readable(client: FlaskClient):
    """The Location of a new process is an address GET answers with that process."""
    response = client.post(BASE, json=start_body("changeofname"))
    fetched = client.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.get_json() == response.get_json()


def test_create_with_name_in_url_returns_201(client: FlaskClient):
    """POST /api/v1/process/{name} starts a process of the type in the URL."""
    request = start_body("changeofname")
    del request["processName"]
    response = client.post(f"{BASE}/changeofname", json=request)
    assert response.status_code == 201
    assert body_of(response)["currentState"]["state"] == "EnterNewName"
    assert response.headers["Location"].startswith(f"{BASE}/changeofname/")


def test_create_name_in_url_and_body_differing_is_400(client: FlaskClient):
    """A body naming another process than the URL is refused."""
    response = client.post(f"{BASE}/changeofname", json=start_body("soletojoint"))
    assert_problem(response, 400)
    assert error_fields(response) == ["processName"]


def test_create_accepts_field_names_in_any_case(client: FlaskClient):
    """The existing front end's `targetID` spelling is accepted."""
    request = start_body("soletojoint")
    target = request.pop("targetId")
    request["targetID"] = target
    response = client.post(BASE, json=request)
    assert response.status_code == 201
    assert body_of(response)["targetId"] == target


def test_create_v2_patch_assignment_becomes_assignment(client: FlaskClient):
    """The v2 `patchAssignment` is stored as the process's assignment."""
    request = start_body("soletojoint")
    del request["assignment"]
    request["patchAssignment"] = {
        "patchId": "p-17",
        "patchName": "Hackney Central",
        "responsibleEntityId": "officer-3",
        "responsibleName": "Jo Bloggs",
    }
    response = client.post(BASE, json=request)
    assert response.status_code == 201
    assignment = body_of(response)["currentState"]["assignment"]
    assert assignment["patch"] == "Hackney Central"
    assert assignment["patchId"] == "p-17"
    assert assignment["officerId"] == "officer-3"
    assert assignment["officerName"] == "Jo Bloggs"


def test_create_target_type_mismatch_is_422(client: FlaskClient):
    """A sole to joint process about a person is unprocessable."""
    response = client.post(BASE, json=start_body("soletojoint", targetType="person"))
    assert_problem(response, 422)
    assert error_fields(response) == ["targetType"]


def test_create_unknown_process_name_is_404(client: FlaskClient):
    """Starting a process type that does not exist answers 404."""
    assert_problem(client.post(BASE, json=start_body("nosuchprocess")), 404)
    assert_problem(
        client.post(
            f"{BASE}/nosuchprocess",
            json=start_body("soletojoint") | {"processName": "nosuchprocess"},
        ),
        404,
    )


def test_create_without_process_name_is_400(client: FlaskClient):
    """POST /api/v1/process without processName is refused, naming the field."""
    request = start_body("soletojoint")
    del request["processName"]
    response = client.post(BASE, json=request)
    assert_problem(response, 400)
    assert error_fields(response) == ["processName"]


@pytest.mark.parametrize("suffix", ["", "/"], ids=["no-slash", "slash"])
def test_get_returns_process_and_etag(client: FlaskClient, suffix: str):
    """GET answers with and without the trailing slash, with the version as ETag."""
    process = start(client, "soletojoint")
    response = client.get(url(process, suffix))
    assert response.status_code == 200
    assert response.headers["ETag"] == '"0"'
    assert body_of(response) == process


def test_get_under_other_process_name_is_404(client: FlaskClient):
    """A sole to joint process is not found under the change of name URL."""
    process = start(client, "soletojoint")
    assert_problem(client.get(f"{BASE}/changeofname/{process['id']}"), 404)


def test_get_unknown_id_is_404(client: FlaskClient):
    """A well-formed id nobody stored answers 404."""
    assert_problem(client.get(f"{BASE}/soletojoint/{new_id()}"), 404)


def test_get_unknown_process_name_is_404(client: FlaskClient):
    """A process name that does not exist answers 404."""
    process = start(client, "soletojoint")
    assert_problem(client.get(f"{BASE}/nosuchprocess/{process['id']}"), 404)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1234", "6b2b4b8e2a4f4f0e9a435f1d0c3e7a11"])
def test_get_malformed_id_is_400(client: FlaskClient, bad_id: str):
    """An id that is not a UUID is a client error, not a missing process."""
    response = client.get(f"{BASE}/soletojoint/{bad_id}")
    assert_problem(response, 400)
    assert error_fields(response) == ["id"]


# --- malformed requests ---------------------------------------------------------------------


def test_create_malformed_json_is_400(client: FlaskClient):
    """A body that is not JSON is refused with a problem saying so."""
    response = client.post(BASE, data='{"processName": ', content_type="application/json")
    problem = assert_problem(response, 400)
    assert "JSON" in problem["detail"]


def test_patch_malformed_json_is_400(client: FlaskClient):
    """A PATCH whose body is not JSON is refused and the process is unchanged."""
    process = start(client, "soletojoint")
    response = client.patch(url(process), data="{trigger", content_type="application/json")
    assert_problem(response, 400)
    assert client.get(url(process)).headers["ETag"] == '"0"'


def test_create_unknown_field_is_400_naming_it(client: FlaskClient):
    """A field the API does not know is refused rather than ignored."""
    response = client.post(BASE, json=start_body("soletojoint", colour="blue"))
    problem = assert_problem(response, 400)
    assert error_fields(response) == ["colour"]
    assert "colour" in problem["detail"]


def test_patch_unknown_field_is_400_naming_it(client: FlaskClient):
    """A PATCH with an unknown field is refused, naming the field."""
    process = start(client, "soletojoint")
    response = client.patch(url(process), json={"trigger": "CancelProcess", "comments": "x"})
    assert_problem(response, 400)
    assert error_fields(response) == ["comments"]


@pytest.mark.parametrize("key", ["$where", "a.b", "$set"])
def test_form_data_operator_like_keys_are_400(client: FlaskClient, key: str):
    """Form data keys MongoDB would read as operators or paths are refused with 400."""
    response = client.post(BASE, json=start_body("soletojoint", formData={key: 1}))
    assert_problem(response, 400)
    assert error_fields(response) == [f"formData.{key}"]

    process = name_submitted(client)
    nested = {"middleName": "A", "extra": {key: 1}}
    for body in (
        {"trigger": "CancelProcess", "formData": {"comment": "x", key: 1}},
        {"processData": {"formData": nested}},
    ):
        response = client.patch(url(process), json=body)
        assert_problem(response, 400)
    assert client.get(url(process)).headers["ETag"] == '"1"'


def test_form_data_integer_too_large_is_400(client: FlaskClient):
    """A number MongoDB cannot store is a client error, not a server failure."""
    response = client.post(BASE, json=start_body("soletojoint", formData={"n": 10**30}))
    assert_problem(response, 400)


def test_non_standard_json_numbers_are_400(client: FlaskClient):
    """NaN and Infinity are not JSON, so a body holding them is refused."""
    raw = json.dumps(start_body("soletojoint")).replace('"formData": {}', '"formData": {"x": NaN}')
    response = client.post(BASE, data=raw, content_type="application/json")
    assert_problem(response, 400)


# --- progressing ----------------------------------------------------------------------------


def test_patch_trigger_in_body_progresses(client: FlaskClient, dispatched):
    """A trigger in the body moves the process, bumps the version and returns a new ETag."""
    process = start(client, "changeofname")
    response = client.patch(
        url(process), json={"trigger": "EnterNewName", "formData": NAME_FORM, "documents": []}
    )
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    body = body_of(response)
    assert body["version"] == 1
    assert body["currentState"]["state"] == "NameSubmitted"
    assert body["currentState"]["processData"]["formData"] == NAME_FORM
    assert body["currentState"]["permittedTriggers"] == machines.registry()[
        "changeofname"
    ].permitted_triggers("NameSubmitted")
    assert [s["state"] for s in body["processStates"]] == [
        "ApplicationInitialised",
        "EnterNewName",
        "NameSubmitted",
    ]
    assert body["processStates"][-1] == body["currentState"]
    assert client.get(url(process)).get_json() == response.get_json()


def test_patch_trigger_in_url_progresses(client: FlaskClient):
    """PATCH .../{id}/{trigger} fires the trigger named in the URL."""
    process = name_submitted(client)
    documents = [new_id(), new_id()]
    response = client.patch(
        url(process, "/RequestDocumentsAppointment"),
        json={"formData": {"appointmentDateTime": "2026-12-01T10:30:00"}, "documents": documents},
    )
    assert state_of(response) == "DocumentsRequestedAppointment"
    assert response.headers["ETag"] == '"2"'
    assert body_of(response)["currentState"]["processData"]["documents"] == documents


def test_patch_if_match_stale_is_412_and_changes_nothing(client: FlaskClient):
    """A change sent with an old ETag is refused with 412 and the process stays as it was."""
    process = name_submitted(client)
    before = client.get(url(process)).get_json()
    response = fire(client, process, "RequestDocumentsDes", **{"If-Match": '"0"'})
    assert_problem(response, 412)
    assert response.headers["ETag"] == '"1"'
    response = client.patch(
        url(process), json={"assignment": {"patch": "patch2"}}, headers={"If-Match": '"0"'}
    )
    assert_problem(response, 412)
    assert client.get(url(process)).get_json() == before


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', "*"])
def test_patch_if_match_current_succeeds(client: FlaskClient, tag: str):
    """A change sent with the current ETag (or `*`) is applied."""
    process = name_submitted(client)
    response = fire(client, process, "RequestDocumentsDes", **{"If-Match": tag})
    assert state_of(response) == "DocumentsRequestedDes"
    assert response.headers["ETag"] == '"2"'


def test_patch_if_match_in_url_trigger_form_is_checked(client: FlaskClient):
    """The URL trigger form honours If-Match too."""
    process = name_submitted(client)
    response = client.patch(
        url(process, "/RequestDocumentsDes"), json={}, headers={"If-Match": '"7"'}
    )
    assert_problem(response, 412)
    assert body_of(client.get(url(process)))["currentState"]["state"] == "NameSubmitted"


def test_patch_if_match_list_containing_current_succeeds(client: FlaskClient):
    """An If-Match listing several ETags succeeds when one of them is current (RFC 9110)."""
    process = name_submitted(client)
    response = fire(client, process, "RequestDocumentsDes", **{"If-Match": '"5", "1"'})
    assert state_of(response) == "DocumentsRequestedDes"


def test_patch_trigger_not_allowed_now_is_409(client: FlaskClient):
    """A trigger the current state does not allow answers 409 saying why."""
    process = start(client, "soletojoint")
    response = fire(client, process, "SubmitApplication")
    problem = assert_problem(response, 409)
    assert problem["detail"].startswith("Cannot trigger SubmitApplication from SelectTenants.")
    assert client.get(url(process)).headers["ETag"] == '"0"'


def test_patch_trigger_after_end_is_409(client: FlaskClient):
    """Nothing can be fired once a process is cancelled."""
    process = cancelled(client)
    response = fire(client, process, "CancelProcess", {"comment": "again"})
    problem = assert_problem(response, 409)
    assert problem["detail"].startswith("Cannot trigger CancelProcess from ProcessCancelled.")


@pytest.mark.parametrize("trigger", ["NoSuchTrigger", "EligibilityPassed", "StartApplication"])
def test_patch_unknown_or_internal_trigger_is_400(client: FlaskClient, trigger: str):
    """Triggers clients may not send, including automated outcomes, are refused with 400."""
    process = start(client, "soletojoint")
    assert_problem(fire(client, process, trigger), 400)
    assert_problem(client.patch(url(process, f"/{trigger}"), json={}), 400)
    assert client.get(url(process)).headers["ETag"] == '"0"'


def test_patch_trigger_missing_related_tenant_is_422(client: FlaskClient):
    """The eligibility check needs a tenant among the related entities."""
    process = start(client, "soletojoint", relatedEntities=[])
    response = fire(client, process, "CheckAutomatedEligibility", {"incomingTenantId": new_id()})
    assert_problem(response, 422)
    assert error_fields(response) == ["relatedEntities"]


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        ({"incomingTenantId": "not-a-uuid"}, ["formData.incomingTenantId"]),
        ({}, ["formData.incomingTenantId"]),
        (
            {"incomingTenantId": "6b2b4b8e-2a4f-4f0e-9a43-5f1d0c3e7a11", "extra": 1},
            ["formData.extra"],
        ),
    ],
    ids=["bad-uuid", "missing", "unknown-key"],
)
def test_patch_form_failing_schema_is_422_naming_fields(
    client: FlaskClient, form: dict[str, Any], fields: list[str]
):
    """Form data failing the trigger's schema answers 422 naming each failing field."""
    process = start(client, "soletojoint")
    response = fire(client, process, "CheckAutomatedEligibility", form)
    assert_problem(response, 422)
    assert error_fields(response) == fields
    assert client.get(url(process)).headers["ETag"] == '"0"'


def test_patch_form_names_every_failing_field(client: FlaskClient):
    """Several bad answers are all reported at once."""
    process = start(client, "changeofname")
    response = fire(client, process, "EnterNewName", {"title": "Sir", "firstName": ""})
    assert_problem(response, 422)
    assert set(error_fields(response)) == {
        "formData.firstName",
        "formData.surname",
        "formData.title",
    }


def test_patch_invalid_title_rejected_when_entered(client: FlaskClient):
    """A title outside the list is refused at EnterNewName, not at the last step."""
    process = start(client, "changeofname")
    response = fire(client, process, "EnterNewName", {**NAME_FORM, "title": "Lord"})
    assert_problem(response, 422)
    assert error_fields(response) == ["formData.title"]


def test_patch_close_without_notifying_resident_is_422_with_message(client: FlaskClient):
    """Closing before the resident was told is refused with the housing officer's message."""
    process = documents_requested(client)
    response = fire(client, process, "CloseProcess", {"hasNotifiedResident": False})
    assert_problem(response, 422)
    assert response.get_json()["errors"] == [
        {
            "field": "formData.hasNotifiedResident",
            "message": "The housing officer must notify the resident before closing this process.",
        }
    ]
    assert state_of(fire(client, process, "CloseProcess", {"hasNotifiedResident": "true"})) == (
        "ProcessClosed"
    )


@pytest.mark.parametrize("moment", ["2026-13-45T10:00", "tomorrow", "2026-02-30T10:00:00"])
def test_patch_impossible_appointment_is_422(client: FlaskClient, moment: str):
    """An appointment that is not a real date and time is refused."""
    process = name_submitted(client)
    response = fire(
        client, process, "RequestDocumentsAppointment", {"appointmentDateTime": moment}
    )
    assert_problem(response, 422)
    assert error_fields(response) == ["formData.appointmentDateTime"]


def test_patch_trigger_with_process_data_is_400(client: FlaskClient):
    """A trigger with a processData that is not a repeat of its form data (here: an edit of
    the current state) is refused, naming processData."""
    process = name_submitted(client)
    response = client.patch(
        url(process),
        json={
            "trigger": "RequestDocumentsDes",
            "processData": {"formData": {"middleName": "A"}},
        },
    )
    assert_problem(response, 400)
    assert error_fields(response) == ["processData.formData"]
    assert client.get(url(process)).headers["ETag"] == '"1"'


def test_patch_trigger_with_assignment_is_not_silently_ignored(client: FlaskClient):
    """An assignment sent with a trigger is either applied or refused, never dropped."""
    process = name_submitted(client)
    response = client.patch(
        url(process),
        json={
            "trigger": "RequestDocumentsDes",
            "assignment": {"patch": "patch2"},
        },
    )
    if response.status_code == 200:
        assert body_of(response)["currentState"]["assignment"]["patch"] == "patch2"
    else:
        assert_problem(response, 400)


# --- editing the current state --------------------------------------------------------------


def test_patch_without_trigger_updates_current_state(client: FlaskClient, dispatched):
    """Without a trigger, form data merges, documents and assignment are replaced, one event."""
    process = name_submitted(client)
    documents = [new_id()]
    response = client.patch(
        url(process),
        json={
            "processData": {"formData": {"middleName": "Anne"}, "documents": documents},
            "assignment": {"patch": "patch2", "officerName": "Sam"},
        },
    )
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    body = body_of(response)
    current = body["currentState"]
    assert body["version"] == 2
    assert current["state"] == "NameSubmitted"
    assert current["processData"]["formData"] == {**NAME_FORM, "middleName": "Anne"}
    assert current["processData"]["documents"] == documents
    assert current["assignment"]["patch"] == "patch2"
    assert current["assignment"]["officerName"] == "Sam"
    assert len(body["processStates"]) == 3
    assert client.get(url(process)).get_json() == response.get_json()
    updates = [
        f
        for f in dispatched.for_process(process["id"])
        if f.name == "ProcessUpdatedEvent" and "processData" in f.payload["eventData"]["newData"]
    ]
    assert len(updates) == 1
    new_data = updates[0].payload["eventData"]["newData"]
    assert new_data["processData"] == {"formData": {"middleName": "Anne"}, "documents": documents}
    assert new_data["assignment"]["patch"] == "patch2"


def test_patch_without_trigger_nothing_changed_keeps_version(client: FlaskClient, dispatched):
    """Sending values already stored answers 200 without a new version or an event."""
    process = name_submitted(client)
    count = len(dispatched)
    response = client.patch(
        url(process),
        json={
            "processData": {"formData": {"firstName": "Patricia"}, "documents": []},
            "assignment": {"patch": "patch1"},
        },
    )
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert body_of(response)["version"] == 1
    assert len(dispatched) == count


def test_patch_without_trigger_form_revalidated_against_entering_trigger(client: FlaskClient):
    """An edit that breaks the schema of the trigger that entered the state is 422."""
    process = name_submitted(client)
    response = client.patch(url(process), json={"processData": {"formData": {"title": "Sir"}}})
    assert_problem(response, 422)
    assert error_fields(response) == ["formData.title"]
    response = client.patch(url(process), json={"processData": {"formData": {"nickname": "P"}}})
    assert_problem(response, 422)
    assert error_fields(response) == ["formData.nickname"]
    assert client.get(url(process)).headers["ETag"] == '"1"'


def test_patch_without_trigger_on_final_state_is_409(client: FlaskClient):
    """An ended process's data can no longer be edited."""
    process = cancelled(client)
    response = client.patch(url(process), json={"assignment": {"patch": "patch2"}})
    assert_problem(response, 409)


def test_patch_form_data_without_trigger_is_400(client: FlaskClient):
    """formData at the top level without a trigger is refused (edits go in processData)."""
    process = name_submitted(client)
    response = client.patch(url(process), json={"formData": {"middleName": "A"}})
    assert_problem(response, 400)
    assert error_fields(response) == ["trigger"]


def test_patch_unknown_process_is_404(client: FlaskClient):
    """Changing a process nobody stored answers 404."""
    response = client.patch(f"{BASE}/soletojoint/{new_id()}", json={"assignment": {"patch": "p"}})
    assert_problem(response, 404)
    response = client.patch(
        f"{BASE}/soletojoint/{new_id()}/CancelProcess", json={"formData": {"comment": "x"}}
    )
    assert_problem(response, 404)


# --- listing --------------------------------------------------------------------------------


def list_page(client: FlaskClient, target: str, **params: Any) -> TestResponse:
    return client.get(BASE, query_string={"targetId": target, **params})


def test_list_pages_newest_first_visiting_each_once(client: FlaskClient):
    """35 processes come back 10 at a time, newest first, each exactly once, no dangling token."""
    target = new_id()
    created = [start(client, "soletojoint", targetId=target) for _ in range(35)]
    start(client, "soletojoint")  # another target's process never appears
    expected = [
        p["id"] for p in sorted(created, key=lambda p: (p["createdAt"], p["id"]), reverse=True)
    ]

    seen: list[dict[str, Any]] = []
    sizes: list[int] = []
    token = None
    while True:
        params = {"pageSize": 10, **({"paginationToken": token} if token else {})}
        response = list_page(client, target, **params)
        assert response.status_code == 200
        page = response.get_json()
        sizes.append(len(page["results"]))
        seen.extend(body for result in page["results"] for body in result.values())
        token = page["paginationDetails"]["nextToken"]
        if token is None:
            break
    assert sizes == [10, 10, 10, 5]
    assert [p["id"] for p in seen] == expected
    created_at = [p["createdAt"] for p in seen]
    assert created_at == sorted(created_at, reverse=True)


def test_list_exactly_one_full_page_has_no_next_token(client: FlaskClient):
    """When the processes fill exactly one page there is no next token."""
    target = new_id()
    for _ in range(10):
        start(client, "changeofname", targetId=target)
    page = list_page(client, target).get_json()
    assert len(page["results"]) == 10
    assert page["paginationDetails"]["nextToken"] is None


def test_list_results_have_process_shape(client: FlaskClient):
    """Each listed process has the same shape GET returns."""
    process = start(client, "soletojoint")
    page = list_page(client, process["targetId"]).get_json()
    assert page["results"] == [client.get(url(process)).get_json()]


def test_list_unknown_target_is_empty(client: FlaskClient):
    """A target with no processes gives an empty page and no token."""
    page = list_page(client, new_id()).get_json()
    assert page == {"results": [], "paginationDetails": {"nextToken": None}}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 101}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"paginationToken": "not-a-token"}, "paginationToken"),
        ({"paginationToken": "eyJjIjoxfQ"}, "paginationToken"),
    ],
)
def test_list_bad_parameters_are_400(client: FlaskClient, params: dict[str, Any], field: str):
    """Out-of-range page sizes and tokens this API did not issue are refused."""
    response = list_page(client, new_id(), **params)
    assert_problem(response, 400)
    assert field in error_fields(response)


def test_list_with_malformed_target_is_400(client: FlaskClient):
    """A targetId filter must be a UUID."""
    response = client.get(BASE, query_string={"targetId": "nope"})
    assert_problem(response, 400)
    assert error_fields(response) == ["targetId"]


# --- cross-cutting --------------------------------------------------------------------------


def test_errors_of_every_kind_are_problem_json(client: FlaskClient):
    """Every error status the API gives is problem+json with type, title, status and detail."""
    process = start(client, "soletojoint")
    responses = {
        400: client.post(BASE, data="nope", content_type="application/json"),
        404: client.get("/api/v1/nowhere"),
        405: client.delete(url(process)),
        409: fire(client, process, "SubmitApplication"),
        412: fire(client, process, "CancelProcess", {"comment": "x"}, **{"If-Match": '"3"'}),
        413: client.post(BASE, data="x" * (1024 * 1024 + 1), content_type="application/json"),
        422: fire(client, process, "CheckAutomatedEligibility", {"incomingTenantId": 7}),
    }
    for status, response in responses.items():
        problem = assert_problem(response, status)
        assert problem["type"] == "about:blank" or problem["type"].startswith("urn:"), problem


def test_correlation_id_is_echoed_or_generated(client: FlaskClient):
    """A given x-correlation-id comes back on the response; without one a fresh id is made."""
    response = client.get(
        f"{BASE}/soletojoint/{new_id()}", headers={"x-correlation-id": "abc-123"}
    )
    assert response.headers["x-correlation-id"] == "abc-123"
    assert response.get_json()["correlationId"] == "abc-123"
    first = client.post(BASE, json=start_body("soletojoint")).headers["x-correlation-id"]
    second = client.get("/api/v1/healthcheck/ping").headers["x-correlation-id"]
    assert uuid.UUID(first)
    assert uuid.UUID(second)
    assert first != second


def test_correlation_id_reaches_events(client: FlaskClient, dispatched):
    """Events raised by a request carry its correlation id."""
    response = client.post(
        BASE, json=start_body("soletojoint"), headers={"x-correlation-id": "corr-9"}
    )
    assert response.status_code == 201
    pid = body_of(response)["id"]
    events = [f for f in dispatched.for_process(pid) if f.kind == "event"]
    assert events
    assert all(f.payload["correlationId"] == "corr-9" for f in events)


def test_health_ping_is_200(client: FlaskClient):
    """The health check answers 200 when MongoDB answers."""
    response = client.get("/api/v1/healthcheck/ping")
    assert response.status_code == 200


def test_unreachable_database_is_503_problem():
    """With MongoDB unreachable, health and process reads answer 503 problem+json, not 500."""
    app = create_app(
        {"MONGO_URI": "mongodb://127.0.0.1:1", "MONGO_DB": "x"}, dispatch=lambda *a: None
    )
    client = signed_in(app, ["processes-admin"])
    assert_problem(client.get("/api/v1/healthcheck/ping"), 503)
    assert_problem(client.get(f"{BASE}/soletojoint/{new_id()}"), 503)


def test_a_store_failure_that_reaches_a_request_is_counted():
    """A request the store failed counts in processes_mongodb_errors_total, for the alert."""
    app = create_app(
        {"MONGO_URI": "mongodb://127.0.0.1:1", "MONGO_DB": "x"}, dispatch=lambda *a: None
    )
    client = signed_in(app, ["processes-admin"])

    def connection_errors() -> float:
        scrape = app.test_client().get("/metrics").get_data(as_text=True)
        found = re.search(
            r'^processes_mongodb_errors_total\{kind="connection"\} (\S+)$', scrape, re.M
        )
        return float(found.group(1)) if found else 0.0

    before = connection_errors()
    assert_problem(client.get(f"{BASE}/soletojoint/{new_id()}"), 503)
    assert connection_errors() == before + 1


def test_openapi_document_has_every_trigger_form_schema(client: FlaskClient):
    """The OpenAPI document publishes each client trigger's formData schema."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    schemas = spec["components"]["schemas"]
    for name, definition in machines.registry().items():
        for trigger_name, trigger in definition.client_triggers.items():
            schema = schemas[f"{name}.{trigger_name}.formData"]
            assert schema["properties"] == json.loads(json.dumps(trigger.form["properties"]))
    assert "soletojoint.CheckManualEligibility.formData" in schemas
    assert "changeofname.EnterNewName.formData" in schemas
    assert "soletojoint.EligibilityPassed.formData" not in schemas
    paths = spec["paths"]
    assert "/api/v1/process" in paths
    assert any(path.startswith("/api/v1/process/{process_name}/{process_id}") for path in paths)


def test_docs_page_is_served(client: FlaskClient):
    """Interactive API docs are served at /api/docs."""
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "openapi.json" in response.get_data(as_text=True)
