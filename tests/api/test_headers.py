"""Case data carries headers that keep browsers and caches from keeping or sniffing it, and a
refusal does not say where a case is."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.test_documents import documents_requested, uploaded
from tests.conftest import signed_in
from tests.support import BASE, start

OFFICER_GROUPS = ["housing-officers", "patch:E1"]


def assert_not_stored(response) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_cases_lists_and_documents_are_not_stored(client: FlaskClient):
    """A case, a worktray page, a case's document and its download all say no-store."""
    process = documents_requested(client)
    case = f"{BASE}/{process['processName']}/{process['id']}"
    document = uploaded(client, process)
    for path in (
        case,
        f"{BASE}?patch=patch1",
        f"{case}/documents",
        f"{case}/documents/{document['id']}",
        f"{case}/diagram",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_json())
        assert_not_stored(response)


def test_errors_and_the_health_check_are_not_stored(app):
    """A 401 problem and the health check also say no-store and nosniff."""
    anonymous = app.test_client()
    assert_not_stored(anonymous.get(BASE))
    assert_not_stored(anonymous.get("/api/v1/healthcheck/ping"))


def test_definitions_and_the_openapi_document_may_be_cached(app, client: FlaskClient):
    """What is the same for everyone is cached for 5 minutes: the definitions privately (they
    need a token), the OpenAPI document publicly."""
    for path in ("/api/v1/process-definitions", "/api/v1/process-definitions/soletojoint"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "private, max-age=300", path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    spec = app.test_client().get("/api/v1/openapi.json")
    assert spec.headers["Cache-Control"] == "public, max-age=300"
    unknown = client.get("/api/v1/process-definitions/nosuchprocess")
    assert unknown.status_code == 404
    assert unknown.headers["Cache-Control"] == "no-store"


def test_a_case_on_another_patch_is_refused_without_naming_the_patch(app, client: FlaskClient):
    """An officer asking for a case outside their patches learns only that it is not theirs."""
    process = start(client, "soletojoint", assignment={"patch": "E9"})
    officer = signed_in(app, OFFICER_GROUPS)
    response = officer.get(f"{BASE}/soletojoint/{process['id']}")
    assert response.status_code == 403
    assert response.get_json()["detail"] == "This case is assigned to a patch that is not yours."
    assert "E9" not in response.get_data(as_text=True)


def test_a_patch_the_caller_names_is_named_back(app, client: FlaskClient):
    """Assigning to, or listing, a patch that is not yours names the patch you sent."""
    officer = signed_in(app, OFFICER_GROUPS)
    process = start(officer, "soletojoint", assignment={"patch": "E1"})
    moved = officer.patch(
        f"{BASE}/soletojoint/{process['id']}", json={"assignment": {"patch": "E9"}}
    )
    assert moved.status_code == 403
    assert moved.get_json()["detail"] == "Patch 'E9' is not yours."
    listed = officer.get(f"{BASE}?patch=E9")
    assert listed.status_code == 403
    assert listed.get_json()["detail"] == "Patch 'E9' is not yours."
