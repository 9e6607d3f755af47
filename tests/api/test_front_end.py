"""The requests the Manage My Home front end (and the existing API's own end-to-end tests)
send, as they send them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from pymongo.database import Database
from werkzeug.test import TestResponse

import machines
from tests.api.test_workflows import path_to, take
from tests.conftest import signed_in
from tests.support import BASE, body_of, new_id, start, start_body, v2_body

V2 = "/api/v2/process"


def problem_of(response: TestResponse, status: int) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.content_type == "application/problem+json"
    return dict(json.loads(text))


def fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


def stored(db: Database) -> list[dict[str, Any]]:
    return list(db.processes.find({}, sort=[("_id", 1)]))


# --- starting: POST /api/v2/process/{processName} -------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize("process_name", ["soletojoint", "changeofname"])
def test_v2_create_starts_the_process_with_its_patch_assignment(
    client: FlaskClient, process_name: str, suffix: str
):
    """The front end's v2 body starts a process: 201, Location, ETag, the brief's payload, and
    patchAssignment read as the case's assignment."""
    request = v2_body(process_name)
    response = client.post(f"{V2}/{process_name}{suffix}", json=request)
    assert response.status_code == 201, response.get_json()
    body = body_of(response)
    assert list(response.get_json()) == [process_name]
    assert response.headers["Location"] == f"{BASE}/{process_name}/{body['id']}"
    assert response.headers["ETag"] == '"0"'
    assert body["targetId"] == request["targetID"]
    assert body["targetType"] == request["targetType"]
    assert body["relatedEntities"] == request["relatedEntities"]
    patch = request["patchAssignment"]
    assert body["currentState"]["assignment"] == {
        "patch": "patch1",
        "patchId": patch["patchId"],
        "patchName": "patch1",
        "officerId": patch["responsibleEntityId"],
        "officerName": "Jo Bloggs",
    }
    assert client.get(response.headers["Location"]).get_json() == response.get_json()


def test_v2_create_binds_field_names_in_any_case(client: FlaskClient):
    """As the existing API's JSON binding does, `TargetId`, `RELATEDENTITIES`, `patchid` and
    their like are the fields they name."""
    request = v2_body("soletojoint")
    shouted = {
        "TargetId": request["targetID"],
        "TARGETTYPE": request["targetType"],
        "RelatedEntities": [
            {"ID": e["id"], "TargetType": e["targetType"]} for e in request["relatedEntities"]
        ],
        "PatchAssignment": {k.upper(): v for k, v in request["patchAssignment"].items()},
        "FormData": {},
        "Documents": [new_id()],
    }
    response = client.post(f"{V2}/soletojoint", json=shouted)
    assert response.status_code == 201, response.get_json()
    assert body_of(response)["currentState"]["assignment"]["officerName"] == "Jo Bloggs"


@pytest.mark.parametrize("missing", ["tenure", "person", "asset"])
def test_v2_create_without_a_target_type_among_related_entities_is_400(
    client: FlaskClient, db: Database, missing: str
):
    """Related entities must cover the tenure, the person and the asset; without one, 400 with
    the existing API's message, and nothing stored."""
    request = v2_body("soletojoint")
    request["relatedEntities"] = [
        e for e in request["relatedEntities"] if e["targetType"] != missing
    ]
    problem = problem_of(client.post(f"{V2}/soletojoint", json=request), 400)
    assert set(fields(problem)) == {"relatedEntities"}
    messages = [error["message"] for error in problem["errors"]]
    assert (
        "RelatedEntities must contain all of the following target types: "
        "[tenure, person, asset]." in messages
    )
    assert stored(db) == []


def test_v2_create_without_the_target_among_related_entities_is_400(
    client: FlaskClient, db: Database
):
    """One related entity must be the target itself (its id and type): 400 otherwise, with
    the existing API's message."""
    request = v2_body("soletojoint")
    target = request["targetID"]
    for entity in request["relatedEntities"]:
        entity["id"] = new_id()
    problem = problem_of(client.post(f"{V2}/soletojoint", json=request), 400)
    assert problem["errors"] == [
        {
            "field": "relatedEntities",
            "message": f"RelatedEntities must contain object with targetId: {target} and "
            "targetType: tenure.",
        }
    ]
    request["relatedEntities"].append({"id": target, "targetType": "person"})
    problem = problem_of(client.post(f"{V2}/soletojoint", json=request), 400)
    assert fields(problem) == ["relatedEntities"]
    assert stored(db) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"patchAssignment": None}, "patchAssignment"),
        ("no patchAssignment", "patchAssignment"),
        ("no relatedEntities", "relatedEntities"),
        ({"relatedEntities": []}, "relatedEntities"),
        ("no targetType", "targetType"),
        ({"targetID": "00000000-0000-0000-0000-000000000000"}, "targetId"),
        ({"patchAssignment.patchId": "p-17"}, "patchAssignment.patchId"),
        (
            {"patchAssignment.responsibleEntityId": "00000000-0000-0000-0000-000000000000"},
            "patchAssignment.responsibleEntityId",
        ),
        ({"patchAssignment.patchName": ""}, "patchAssignment.patchName"),
        ({"patchAssignment.responsibleName": ""}, "patchAssignment.responsibleName"),
        ({"assignment": {"patch": "E1"}}, "assignment"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_v2_create_checks_its_body_as_the_existing_api_does(
    client: FlaskClient, db: Database, change: Any, field: str
):
    """patchAssignment, relatedEntities (not empty) and targetType are required, ids are
    non-nil UUIDs, names are not empty, fields of v1 only are unknown: each is a 400 naming
    the field, and nothing is stored."""
    request = v2_body("soletojoint")
    if isinstance(change, str):
        del request[change.removeprefix("no ")]
    else:
        for key, value in change.items():
            if key.startswith("patchAssignment."):
                request["patchAssignment"][key.split(".", 1)[1]] = value
            else:
                request[key] = value
    problem = problem_of(client.post(f"{V2}/soletojoint", json=request), 400)
    assert field in fields(problem), problem
    assert stored(db) == []


def test_v2_create_is_in_the_openapi_document(client: FlaskClient):
    """The v2 route is documented, with its body's rules."""
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v2/process/{process_name}"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) >= {"targetId", "targetType", "relatedEntities"}
    assert "patchAssignment" in schema["required"]
    related = schema["properties"]["relatedEntities"]
    assert related["minItems"] == 1
    kinds = [c["contains"]["properties"]["targetType"]["const"] for c in related["allOf"]]
    assert kinds == ["tenure", "person", "asset"]
    assert {"201", "400", "413", "415"} <= set(operation["responses"])


# --- starting: v1 ---------------------------------------------------------------------------


def test_v1_create_with_a_trailing_slash_is_201(client: FlaskClient):
    """POST /api/v1/process/{processName}/, as the existing API's tests send it, starts a
    process."""
    request = start_body("changeofname")
    del request["processName"]
    response = client.post(f"{BASE}/changeofname/", json=request)
    assert response.status_code == 201, response.get_json()
    assert body_of(response)["currentState"]["state"] == "EnterNewName"


# --- progressing ----------------------------------------------------------------------------

APPOINTMENT = {"appointmentDateTime": "2030-12-01T10:30:00"}
DECISION = {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"}


def at_state(client: FlaskClient, path: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A change of name process moved along `path`: (trigger, formData) pairs."""
    process = start(client, "changeofname")
    for trigger, form in path:
        response = client.patch(
            f"{BASE}/changeofname/{process['id']}/{trigger}",
            json={"formData": form, "documents": [new_id()]},
        )
        assert response.status_code == 200, (trigger, response.get_json())
        process = body_of(response)
    return process


TO_APPROVAL = [
    ("EnterNewName", {"title": "Ms", "firstName": "Pat", "middleName": "", "surname": "Lee"}),
    ("RequestDocumentsDes", {}),
    (
        "ReviewDocuments",
        {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
    ),
    ("SubmitApplication", {}),
    ("TenureInvestigation", {"tenureInvestigationRecommendation": "approve"}),
]
SCREENS = {
    "ScheduleInterview": TO_APPROVAL,
    "ScheduleTenureAppointment": [*TO_APPROVAL, ("HOApproval", DECISION)],
}


def front_end_body(form: dict[str, Any], repeated: dict[str, Any] | None = None) -> dict:
    """The appointment screens' body: formData and documents, and the same again under
    processData (or `repeated` there)."""
    again = {"formData": dict(form), "documents": []} if repeated is None else repeated
    return {"formData": form, "documents": [], "processData": again}


def url_forms(process: dict[str, Any], trigger: str) -> list[tuple[str, Callable]]:
    """The two ways to send a trigger: named in the URL, or in the body."""
    base = f"{BASE}/changeofname/{process['id']}"
    return [
        (f"{base}/{trigger}", lambda body: body),
        (base, lambda body: {"trigger": trigger, **body}),
    ]


@pytest.mark.parametrize("trigger", sorted(SCREENS))
@pytest.mark.parametrize("form", ["url", "body"])
def test_appointments_with_process_data_repeating_form_data_are_accepted(
    client: FlaskClient, trigger: str, form: str
):
    """ScheduleInterview and ScheduleTenureAppointment arrive with formData and documents,
    and the same again under processData: the trigger fires with formData, and processData is
    not stored."""
    process = at_state(client, SCREENS[trigger])
    path, shape = url_forms(process, trigger)[form == "body"]
    response = client.patch(path, json=shape(front_end_body(APPOINTMENT)))
    assert response.status_code == 200, response.get_json()
    current = body_of(response)["currentState"]
    assert current["trigger"] == trigger
    assert current["processData"]["formData"] == APPOINTMENT
    assert "processData" not in current["processData"]["formData"]


@pytest.mark.parametrize(
    ("repeated", "field"),
    [
        ({"formData": {"appointmentDateTime": "2030-12-02T09:00:00"}}, "processData.formData"),
        ({"formData": {}}, "processData.formData"),
        ({"documents": [new_id()]}, "processData.documents"),
        ({"formData": {"appointmentDateTime": True}}, "processData.formData"),
    ],
)
@pytest.mark.parametrize("form", ["url", "body"])
def test_process_data_contradicting_form_data_is_400(
    client: FlaskClient, db: Database, repeated: dict[str, Any], field: str, form: str
):
    """A processData that says something else than formData or documents is refused with 400
    naming it, and the process is unchanged: which of the two was meant cannot be told."""
    process = at_state(client, SCREENS["ScheduleInterview"])
    path, shape = url_forms(process, "ScheduleInterview")[form == "body"]
    before = stored(db)
    response = client.patch(path, json=shape(front_end_body(APPOINTMENT, repeated)))
    assert fields(problem_of(response, 400)) == [field]
    assert stored(db) == before


def test_process_data_alone_without_a_trigger_is_still_an_edit(client: FlaskClient):
    """Without a trigger, processData is the edit of the current state, as before."""
    process = at_state(client, TO_APPROVAL[:1])
    response = client.patch(
        f"{BASE}/changeofname/{process['id']}",
        json={"processData": {"formData": {"middleName": "Ann"}}},
    )
    assert response.status_code == 200, response.get_json()
    assert body_of(response)["currentState"]["processData"]["formData"]["middleName"] == "Ann"


MANUAL_CHECKS = {
    "br11": "true",
    "br12": "false",
    "br13": "false",
    "br15": "false",
    "br16": "false",
    "br7": "false",
    "br8": "false",
    "br9": "false",
}


@pytest.mark.parametrize("form", ["url", "body"])
def test_manual_eligibility_with_an_unanswered_select_is_accepted(
    client: FlaskClient, app, form: str
):
    """CheckManualEligibility arrives, with br9 "false", as proposedTenantExistingPropertyOrTenure:
    "" (the select the front end leaves empty): an unanswered question, not a 422, and not
    stored."""
    definition = machines.get("soletojoint")
    assert definition is not None
    process = start(client, "soletojoint")
    for edge in path_to(definition, "AutomatedChecksPassed"):
        process = take(client, app, definition, process, edge)
    sent = {**MANUAL_CHECKS, "proposedTenantExistingPropertyOrTenure": ""}
    path, shape = url_forms(process, "CheckManualEligibility")[form == "body"]
    path = path.replace("changeofname", "soletojoint")
    response = client.patch(path, json=shape({"formData": sent, "documents": []}))
    assert response.status_code == 200, response.get_json()
    current = body_of(response)["currentState"]
    assert current["state"] == "ManualChecksPassed"
    assert current["processData"]["formData"] == MANUAL_CHECKS


def test_an_unanswered_select_is_refused_when_the_answer_is_not_optional(client: FlaskClient):
    """ "" stays an invalid answer where the question must be answered (a required enum)."""
    process = at_state(client, TO_APPROVAL[:4])
    response = client.patch(
        f"{BASE}/changeofname/{process['id']}/TenureInvestigation",
        json={"formData": {"tenureInvestigationRecommendation": ""}},
    )
    assert fields(problem_of(response, 422)) == ["formData.tenureInvestigationRecommendation"]


REVIEW = {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True}


def documents_requested(client: FlaskClient) -> dict[str, Any]:
    """A change of name process waiting for documents, none attached."""
    process = start(client, "changeofname")
    for trigger, form in TO_APPROVAL[:2]:
        response = client.patch(
            f"{BASE}/changeofname/{process['id']}/{trigger}", json={"formData": form}
        )
        assert response.status_code == 200, response.get_json()
    return body_of(response)


@pytest.mark.parametrize("form", ["url", "body"])
def test_review_documents_counts_the_documents_it_reviews(client: FlaskClient, form: str):
    """ReviewDocuments arrives with the reviewed documents' ids in its own `documents`: they
    count as attached, and are the new state's documents."""
    process = documents_requested(client)
    assert process["currentState"]["processData"]["documents"] == []
    reviewed = [new_id(), new_id()]
    path, shape = url_forms(process, "ReviewDocuments")[form == "body"]
    response = client.patch(path, json=shape({"formData": REVIEW, "documents": reviewed}))
    assert response.status_code == 200, response.get_json()
    current = body_of(response)["currentState"]
    assert current["state"] == "DocumentChecksPassed"
    assert current["processData"]["documents"] == reviewed


@pytest.mark.parametrize("form", ["url", "body"])
def test_review_documents_without_any_document_is_still_422(
    client: FlaskClient, db: Database, form: str
):
    """With no document attached and none in the request, ReviewDocuments is refused as
    before, and nothing changes."""
    process = documents_requested(client)
    before = stored(db)
    path, shape = url_forms(process, "ReviewDocuments")[form == "body"]
    response = client.patch(path, json=shape({"formData": REVIEW, "documents": []}))
    assert fields(problem_of(response, 422)) == ["documents"]
    assert stored(db) == before


# --- assigning ------------------------------------------------------------------------------


def assign(client: FlaskClient, process: dict[str, Any], how: str, assignment: Any):
    """Send `assignment` as an edit, with a trigger in the body, or with one in the URL."""
    url = f"{BASE}/changeofname/{process['id']}"
    if how == "edit":
        return client.patch(url, json={"assignment": assignment})
    cancel = {"formData": {"comment": "x"}, "assignment": assignment}
    if how == "trigger":
        return client.patch(url, json={"trigger": "CancelProcess", **cancel})
    return client.patch(f"{url}/CancelProcess", json=cancel)


@pytest.mark.parametrize("how", ["edit", "trigger", "url"])
@pytest.mark.parametrize(
    "sent",
    [
        {"type": "patch", "value": "E3", "patch": "E3"},
        {"type": "patch", "value": "E3"},
        {"Type": "patch", "Value": "E3"},
    ],
)
def test_the_existing_apis_assignment_shape_is_stored_as_a_patch(
    client: FlaskClient, how: str, sent: dict[str, Any]
):
    """{"type": "patch", "value": "E3", "patch": "E3"}, the existing API's assignment, assigns
    the case to patch E3, stored in this API's shape."""
    process = start(client, "changeofname")
    response = assign(client, process, how, sent)
    assert response.status_code == 200, response.get_json()
    assert body_of(response)["currentState"]["assignment"] == {"patch": "E3"}


@pytest.mark.parametrize("how", ["edit", "trigger", "url"])
@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"type": "patch", "value": "E3", "patch": "E4"}, "assignment.value"),
        ({"type": "patch", "value": "E3", "patch": None}, "assignment.value"),
        ({"type": "team", "value": "area-managers"}, "assignment.type"),
        ({"value": "E3"}, "assignment.type"),
    ],
)
def test_an_assignment_contradicting_itself_is_400(
    client: FlaskClient, db: Database, how: str, sent: dict[str, Any], field: str
):
    """type, value and patch that do not agree (two patches, a kind other than patch, a value
    of no kind) are refused naming the field, and nothing changes."""
    process = start(client, "changeofname")
    before = stored(db)
    assert fields(problem_of(assign(client, process, how, sent), 400)) == [field]
    assert stored(db) == before


def test_the_existing_apis_assignment_shape_starts_a_case_on_that_patch(client: FlaskClient):
    """The same shape when starting a process."""
    response = client.post(
        BASE, json=start_body("changeofname", assignment={"type": "patch", "value": "E3"})
    )
    assert response.status_code == 201, response.get_json()
    assert body_of(response)["currentState"]["assignment"] == {"patch": "E3"}


def test_the_patch_in_value_is_the_one_authorised(app, client: FlaskClient):
    """An officer cannot hand a case to another patch by naming it in `value`."""
    officer = signed_in(app, ["housing-officers", "patch:E1"])
    process = start(officer, "changeofname", assignment={"patch": "E1"})
    response = officer.patch(
        f"{BASE}/changeofname/{process['id']}",
        json={"assignment": {"type": "patch", "value": "E9"}},
    )
    assert response.status_code == 403, response.get_json()


def test_answers_sent_beside_formdata_are_pointed_to_formdata(client):  # type: ignore[no-untyped-def]
    """A trigger's answer sent at the top level of the body is refused with a message saying
    that form answers go under formData, on both forms of the PATCH."""
    process = start(client, "changeofname")
    path = f"{BASE}/changeofname/{process['id']}"
    for url, body in (
        (f"{path}/EnterNewName", {"firstName": "Ann"}),
        (path, {"trigger": "EnterNewName", "firstName": "Ann"}),
    ):
        response = client.patch(url, json=body)
        assert response.status_code == 400, response.get_json()
        (error,) = response.get_json()["errors"]
        assert error["field"] == "firstName"
        assert "Form answers go under formData" in error["message"]
