"""Authentication and authorisation on every endpoint: zero unauthorised successes."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from api.auth import PUBLIC_ENDPOINTS, mint
from tests.conftest import signed_in
from tests.support import BASE, body_of, fire, new_id, start

OTHER_PATCH = "E9"
OFFICER_GROUPS = ["housing-officers", "patch:E1"]


def endpoints(app) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(method, rule, endpoint) of every protected route."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith("ui."):
            continue  # the officer pages sign in with a session cookie (tests/ui)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule, rule.endpoint))
    return found


def fill(rule: str, process: dict[str, Any]) -> str:
    values = {
        "process_name": process["processName"],
        "process_id": process["id"],
        "trigger": "CancelProcess",
        "document_id": new_id(),
    }
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(m.group(1), "x"), rule)


def call(client: FlaskClient, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"formData": {"comment": "Withdrawn"}, "documents": []}
    if method == "PATCH" and path.rstrip("/").count("/") == 5:
        body["trigger"] = "CancelProcess"
    if method in ("GET", "DELETE"):
        return client.open(path, method=method, headers=headers)
    if path.endswith("/documents"):
        return client.open(path, method=method, headers=headers, data={})
    return client.open(path, method=method, headers=headers, json=body)


def bad_tokens(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    settings = app.extensions["settings"]
    now = int(time.time())
    claims = {"sub": "x", "name": "X", "groups": ["processes-admin"]}
    return {
        "none": "",
        "not-bearer": "Basic dXNlcjpwYXNz",
        "malformed": "Bearer not.a.jwt",
        "expired": "Bearer "
        + mint(settings, "x", "X", "x@x", ["processes-admin"], lifetime=timedelta(minutes=-5)),
        "bad-signature": "Bearer "
        + jwt.encode(
            {**claims, "exp": now + 600}, "another-secret-of-sufficient-length!!", "HS256"
        ),
        "no-expiry": "Bearer " + jwt.encode(claims, settings.jwt_secret, "HS256"),
        "alg-none": "Bearer " + jwt.encode({**claims, "exp": now + 600}, None, "none"),
    }


@pytest.mark.parametrize(
    "case",
    ["none", "not-bearer", "malformed", "expired", "bad-signature", "no-expiry", "alg-none"],
)
def test_every_endpoint_refuses_a_missing_or_invalid_token(app, client, case: str):
    """No token, or one that is expired, forged or malformed, is a 401 problem everywhere."""
    process = start(client, "soletojoint")
    header = bad_tokens(app)[case]
    headers = {"Authorization": header} if header else {}
    anonymous = app.test_client()
    for method, rule, _ in endpoints(app):
        response = call(anonymous, method, fill(rule, process), headers)
        assert response.status_code == 401, (case, method, rule, response.status_code)
        assert response.content_type == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert body_of(client.get(f"{BASE}/soletojoint/{process['id']}"))["version"] == 0


def test_every_process_endpoint_refuses_an_officer_of_another_patch(app, client):
    """An officer sees and acts only on their patches' processes: elsewhere, 403 and no change."""
    process = start(client, "soletojoint", assignment={"patch": OTHER_PATCH})
    officer = signed_in(app, OFFICER_GROUPS)
    for method, rule, _ in endpoints(app):
        if "<process_id>" not in rule:
            continue
        response = call(officer, method, fill(rule, process), {})
        assert response.status_code == 403, (method, rule, response.status_code)
    assert body_of(client.get(f"{BASE}/soletojoint/{process['id']}"))["version"] == 0


def test_officer_lists_only_their_patches_and_unassigned_cases(app, client):
    """Listings are scoped to the caller's patches (plus unassigned cases); admins see all."""
    target = new_id()
    mine = start(client, "soletojoint", targetId=target, assignment={"patch": "E1"})
    theirs = start(client, "soletojoint", targetId=target, assignment={"patch": OTHER_PATCH})
    unassigned = start(client, "soletojoint", targetId=target, assignment={})
    officer = signed_in(app, OFFICER_GROUPS)

    def ids(c: FlaskClient, **query: str) -> set[str]:
        response = c.get(BASE, query_string={"targetId": target, **query})
        assert response.status_code == 200, response.get_json()
        return {body["id"] for item in response.get_json()["results"] for body in item.values()}

    assert ids(officer) == {mine["id"], unassigned["id"]}
    assert ids(client) == {mine["id"], theirs["id"], unassigned["id"]}
    assert officer.get(BASE, query_string={"patch": OTHER_PATCH}).status_code == 403


def test_only_area_managers_may_approve(app, client):
    """HOApproval is configured for area managers: an officer gets 403, a manager succeeds."""
    process = start(client, "changeofname", assignment={"patch": "E1"})
    for trigger, form in [
        ("EnterNewName", {"title": "Mr", "firstName": "Al", "surname": "Li"}),
        ("RequestDocumentsDes", {}),
        (
            "ReviewDocuments",
            {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
        ),
        ("SubmitApplication", {}),
        ("TenureInvestigation", {"tenureInvestigationRecommendation": "approve"}),
    ]:
        response = client.patch(
            f"{BASE}/changeofname/{process['id']}",
            json={"trigger": trigger, "formData": form, "documents": [new_id()]},
        )
        assert response.status_code == 200, (trigger, response.get_json())
    approval = {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"}

    officer = signed_in(app, OFFICER_GROUPS)
    assert fire(officer, process, "HOApproval", approval).status_code == 403
    manager = signed_in(app, ["area-managers", "patch:E1"])
    response = fire(manager, process, "HOApproval", approval)
    assert response.status_code == 200
    assert body_of(response)["currentState"]["actedBy"]["name"] == "Test Officer"


def test_officer_cannot_start_on_or_reassign_to_another_patch(app):
    """Starting a case on, or handing one to, a patch that is not yours is refused."""
    officer = signed_in(app, OFFICER_GROUPS)
    refused = officer.post(
        BASE,
        json={
            "processName": "soletojoint",
            "targetId": new_id(),
            "relatedEntities": [],
            "assignment": {"patch": OTHER_PATCH},
        },
    )
    assert refused.status_code == 403
    process = start(officer, "soletojoint", assignment={"patch": "E1"})
    moved = officer.patch(
        f"{BASE}/soletojoint/{process['id']}", json={"assignment": {"patch": OTHER_PATCH}}
    )
    assert moved.status_code == 403


def test_the_acting_user_is_recorded_on_history_and_events(app, dispatched):
    """Who started and who moved the case is kept on the states and on the events."""
    officer = signed_in(app, OFFICER_GROUPS)
    process = start(officer, "soletojoint", assignment={"patch": "E1"})
    response = fire(officer, process, "CancelProcess", {"comment": "Withdrawn"})
    body = body_of(response)
    assert body["createdBy"]["id"] == "officer-1"
    assert body["currentState"]["actedBy"] == {
        "id": "officer-1",
        "name": "Test Officer",
        "email": "officer@example.org",
    }
    closed = [f for f in dispatched.for_process(process["id"]) if f.name == "ProcessClosedEvent"]
    assert closed[0].payload["user"] == {"name": "Test Officer", "email": "officer@example.org"}


def test_health_and_docs_need_no_token(app):
    """Health and the API documents are public."""
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/healthcheck/ping").status_code == 200
    assert anonymous.get("/api/v1/openapi.json").status_code == 200
    assert anonymous.get("/api/docs").status_code == 200


MALFORMED_CLAIMS = {
    "groups number": {"groups": 7},
    "groups boolean": {"groups": True},
    "groups object": {"groups": {"processes-admin": True}},
    "groups with a number": {"groups": ["processes-admin", 7]},
    "groups with a surrogate": {"groups": ["patch:\udfff"]},
    "sub empty": {"sub": ""},
    "sub number": {"sub": 42},
    "name number": {"name": 5},
    "name list": {"name": ["Pat"]},
    "name surrogate": {"name": "Pat \udfff"},
    "email object": {"email": {"at": "example.org"}},
    "email boolean": {"email": False},
}


@pytest.mark.parametrize("case", sorted(MALFORMED_CLAIMS))
def test_a_well_signed_token_with_malformed_claims_is_401(app, client, db, case: str):
    """A correctly signed token whose sub, name, email or groups cannot be used as they are
    (a number, a boolean, an object, a lone surrogate) is a 401 naming the claim, on every
    endpoint, and changes nothing."""
    settings = app.extensions["settings"]
    process = start(client, "soletojoint")
    claims = {
        "sub": "officer-1",
        "name": "Pat",
        "email": "pat@example.org",
        "groups": ["processes-admin"],
        "exp": int(time.time()) + 600,
        **MALFORMED_CLAIMS[case],
    }
    header = {"Authorization": "Bearer " + jwt.encode(claims, settings.jwt_secret, "HS256")}
    stored = list(db.processes.find({}, sort=[("_id", 1)]))
    bad = next(iter(MALFORMED_CLAIMS[case]))
    anonymous = app.test_client()
    for method, rule, _ in endpoints(app):
        response = call(anonymous, method, fill(rule, process), header)
        assert response.status_code == 401, (case, method, rule, response.get_data(as_text=True))
        assert response.content_type == "application/problem+json"
        detail = response.get_json()["detail"]
        assert bad in detail or "Subject" in detail, detail
    assert list(db.processes.find({}, sort=[("_id", 1)])) == stored


def test_a_single_group_as_a_string_is_still_accepted(app):
    """`groups: "processes-admin"` (one group, not a list) is read as that group."""
    settings = app.extensions["settings"]
    claims = {"sub": "officer-1", "groups": "processes-admin", "exp": int(time.time()) + 600}
    header = {"Authorization": "Bearer " + jwt.encode(claims, settings.jwt_secret, "HS256")}
    response = app.test_client().get(BASE, query_string={"patch": OTHER_PATCH}, headers=header)
    assert response.status_code == 200, response.get_json()
