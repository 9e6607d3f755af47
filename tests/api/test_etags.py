"""Every response to a change of a case carries its new ETag, and every change honours
If-Match: a client that keeps the last ETag it got never meets a needless 412."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from pymongo.database import Database

from tests.api.test_documents import PDF_BYTES, stored_files
from tests.support import BASE, body_of, new_id, start


def url(process: dict[str, Any], suffix: str = "") -> str:
    return f"{BASE}/{process['processName']}/{process['id']}{suffix}"


def upload(client: FlaskClient, process: dict[str, Any], **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        url(process, "/documents"),
        data={"file": (io.BytesIO(PDF_BYTES), "id.pdf", "application/pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )


def stored_version(client: FlaskClient, process: dict[str, Any]) -> int:
    return int(body_of(client.get(url(process)))["version"])


def test_each_change_answers_with_the_etag_the_next_one_needs(client: FlaskClient):
    """Create, trigger, edit, reassign, upload and remove, each sent with the ETag of the
    answer before: every one succeeds, and each answer's ETag is the stored version."""
    created = client.post(
        BASE,
        json={
            "processName": "soletojoint",
            "targetId": new_id(),
            "relatedEntities": [{"id": new_id(), "targetType": "person", "subType": "tenant"}],
            "assignment": {"patch": "patch1"},
        },
    )
    assert created.status_code == 201, created.get_json()
    process = body_of(created)
    tag = created.headers["ETag"]
    changes = [
        (
            "PATCH",
            "",
            {
                "json": {
                    "trigger": "CheckAutomatedEligibility",
                    "formData": {"incomingTenantId": new_id()},
                }
            },
        ),
        ("PATCH", "", {"json": {"processData": {"documents": [new_id()]}}}),
        ("PATCH", "", {"json": {"assignment": {"patch": "patch2"}}}),
        ("POST", "/automation/retry", {}),
    ]
    for method, suffix, kwargs in changes:
        response = client.open(
            url(process, suffix), method=method, headers={"If-Match": tag}, **kwargs
        )
        assert response.status_code in (200, 202), (method, suffix, response.get_json())
        tag = response.headers["ETag"]
        assert tag == f'"{stored_version(client, process)}"'
    uploaded = upload(client, process, **{"If-Match": tag})
    assert uploaded.status_code == 201, uploaded.get_json()
    assert uploaded.headers["ETag"] == f'"{stored_version(client, process)}"'
    removed = client.delete(
        url(process, f"/documents/{uploaded.get_json()['id']}"),
        headers={"If-Match": uploaded.headers["ETag"]},
    )
    assert removed.status_code == 204
    assert removed.headers["ETag"] == f'"{stored_version(client, process)}"'


def test_an_upload_against_a_stale_etag_is_refused_and_stores_nothing(
    client: FlaskClient, db: Database
):
    """If-Match naming an old version: 412 with the current ETag; no file is kept and the
    case lists no document."""
    process = start(client, "changeofname")
    stale = f'"{process["version"]}"'
    assert client.patch(url(process), json={"assignment": {"patch": "patch2"}}).status_code == 200

    response = upload(client, process, **{"If-Match": stale})

    assert response.status_code == 412, response.get_json()
    assert response.headers["ETag"] == f'"{stored_version(client, process)}"'
    assert stored_files(db) == 0
    assert client.get(url(process, "/documents")).get_json()["results"] == []


def test_a_removal_against_a_stale_etag_is_refused_and_keeps_the_document(client: FlaskClient):
    """If-Match naming an old version: 412, and the document is still attached and stored."""
    process = start(client, "changeofname")
    uploaded = upload(client, process)
    assert uploaded.status_code == 201
    document_id = uploaded.get_json()["id"]
    assert client.patch(url(process), json={"assignment": {"patch": "patch2"}}).status_code == 200

    response = client.delete(
        url(process, f"/documents/{document_id}"), headers={"If-Match": uploaded.headers["ETag"]}
    )

    assert response.status_code == 412, response.get_json()
    assert client.get(url(process, f"/documents/{document_id}")).status_code == 200
