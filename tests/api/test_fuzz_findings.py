"""What the OpenAPI fuzz run (tests/fuzz) found, kept as regular tests.

Each was a 500, or an answer the published document did not allow: a request the document
calls valid refused as malformed, one it calls invalid accepted, or a response of a status,
media type or method the document does not list.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

import machines
from tests.support import BASE, body_of, fire, new_id, start, start_body

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
NAME_FORM = {"title": "Ms", "firstName": "Pat", "middleName": "", "surname": "Williams"}


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.get_json())


def operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return dict(spec["paths"][f"/api/v1{path}"][method])


def path_parameter(spec: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    (found,) = [p for p in operation(spec, path, method)["parameters"] if p["name"] == name]
    return dict(found["schema"])


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    return dict(response.get_json())


def fields(problem: dict[str, Any]) -> list[str]:
    return sorted(error["field"] for error in problem.get("errors", []))


def uploaded(client: FlaskClient) -> str:
    """Where to download a PDF just uploaded to a new process."""
    process = start(client, "changeofname")
    upload = client.post(
        f"{BASE}/changeofname/{process['id']}/documents",
        data={"file": (io.BytesIO(PDF), "scan.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    return str(upload.headers["Location"])


def test_ids_are_documented_and_checked_as_hyphenated_uuids(client: FlaskClient, spec):
    """Ids were documented as any string, so a schema-valid `targetId: ""` or process id "0"
    got 400. They are now `format: uuid` in bodies, queries and paths, and the check matches
    that format: a 36-character string uuid.UUID() happens to parse (braces, hyphens moved)
    is refused too."""
    schemas = spec["components"]["schemas"]
    assert schemas["NewProcess"]["properties"]["targetId"]["format"] == "uuid"
    assert schemas["RelatedEntity"]["properties"]["id"]["format"] == "uuid"
    assert schemas["TriggerData"]["properties"]["documents"]["items"]["format"] == "uuid"
    (target,) = [
        p for p in operation(spec, "/process", "get")["parameters"] if p["name"] == "targetId"
    ]
    assert target["schema"]["format"] == "uuid"
    path = "/process/{process_name}/{process_id}/documents/{document_id}"
    for name in ("process_id", "document_id"):
        assert path_parameter(spec, path, "get", name) == {
            "type": "string",
            "format": "uuid",
            "not": {"const": "00000000-0000-0000-0000-000000000000"},
        }

    hex32 = uuid.uuid4().hex
    odd = "{" + hex32[:8] + "-" + hex32[8:12] + "-" + hex32[12:] + "}"
    assert len(odd) == 36
    assert uuid.UUID(odd)
    response = client.post(BASE, json=start_body("soletojoint", targetId=odd))
    assert fields(problem_of(response, 400)) == ["targetId"]


def test_start_documents_process_name_and_body_as_required(client: FlaskClient, spec):
    """POST /process shared the schema of POST /process/{name}, where processName is optional,
    and its body was not marked required: a request the document allowed (no body, or no
    processName) got 400. Now the body and processName are required in the document, and
    both fields are named when missing."""
    body = operation(spec, "/process", "post")["requestBody"]
    assert body["required"] is True
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    required = set(spec["components"]["schemas"][ref]["required"])
    assert {"processName", "targetId", "relatedEntities"} <= required
    assert operation(spec, "/process/{process_name}", "post")["requestBody"]["required"] is True

    problem = problem_of(client.post(BASE, json={}), 400)
    assert fields(problem) == ["processName", "relatedEntities", "targetId"]
    request = start_body("tenancyaudit")
    del request["processName"]
    assert fields(problem_of(client.post(BASE, json=request), 400)) == ["processName"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/process?pathc=E1",
        "/api/v1/process?=1",
        "/api/v1/process-definitions?pageSize=5",
        "/api/v1/process-definitions/soletojoint?formt=mermaid",
    ],
)
def test_unknown_query_parameters_are_refused(client: FlaskClient, url: str):
    """The query schemas say `unknown = RAISE`, but webargs loads query strings with EXCLUDE
    unless told otherwise, so a misspelt filter (`?pathc=E1`) was ignored and the whole
    unfiltered worktray came back with 200. Unknown parameters are now a 400 naming them."""
    name = url.split("?", 1)[1].split("=", 1)[0]
    assert fields(problem_of(client.get(url), 400)) == [name]


@pytest.mark.parametrize("resource", ["documents", "diagram"])
def test_patch_of_a_sub_resource_is_405_not_a_trigger(client: FlaskClient, resource: str):
    """`PATCH /process/{name}/{id}/{trigger}` also matched `.../documents` and `.../diagram`,
    so OPTIONS on them advertised PATCH (`Allow` listing an undocumented method) and a PATCH
    tried to fire a trigger called "documents". Those segments are not triggers now: PATCH is
    405 with an `Allow` that lists what the resource supports."""
    process = start(client, "tenancyaudit")
    url = f"{BASE}/tenancyaudit/{process['id']}/{resource}"
    allowed = client.options(url).headers["Allow"]
    assert "PATCH" not in allowed
    assert "GET" in allowed
    response = client.patch(url, json={})
    problem_of(response, 405)
    assert "PATCH" not in response.headers["Allow"]
    assert fire(client, process, "ScheduleVisit").status_code != 405


def test_downloads_answer_with_a_documented_media_type(client: FlaskClient, spec):
    """A download answers with the type detected at upload (application/pdf, image/png, ...)
    but was documented as application/octet-stream only. The document now allows any type."""
    download = client.get(uploaded(client))
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    path = "/process/{process_name}/{process_id}/documents/{document_id}"
    documented = operation(spec, path, "get")["responses"]["200"]["content"]
    assert any(
        re.fullmatch(media.replace("*", "[^/]+"), download.mimetype) for media in documented
    ), documented


def test_not_modified_download_is_documented_without_a_body(client: FlaskClient, spec):
    """The 304 of a download (If-None-Match naming the current copy) was documented, by
    apiflask's default, as an application/json body; it has no body. It is documented
    without content now, and If-None-Match (like If-Match where 412 can come) is a documented
    header parameter."""
    path = "/process/{process_name}/{process_id}/documents/{document_id}"
    download = operation(spec, path, "get")
    assert not download["responses"]["304"].get("content")
    assert "If-None-Match" in [p["name"] for p in download["parameters"]]
    patch = operation(spec, "/process/{process_name}/{process_id}", "patch")
    assert "If-Match" in [p["name"] for p in patch["parameters"]]

    response = client.get(uploaded(client), headers={"If-None-Match": "*"})
    assert response.status_code == 304
    assert response.data == b""


def test_upload_documents_the_file_as_required_and_not_empty(spec):
    """The upload form's `file` was optional in the document (it is checked after the
    authorisation check, not by the schema), so a body without it, or with an empty file, was
    schema-valid yet got 400. The document now requires the body, the part and one byte."""
    body = operation(spec, "/process/{process_name}/{process_id}/documents", "post")
    assert body["requestBody"]["required"] is True
    form = spec["components"]["schemas"]["UploadForm"]
    assert form["required"] == ["file"]
    assert form["properties"]["file"]["minLength"] == 1


def test_upload_with_an_unnamed_part_is_a_400_not_a_500(client: FlaskClient):
    """A multipart part without a `name` is listed by Werkzeug under the key None; sorting the
    unexpected part names with it raised TypeError, a 500. It is now an unknown field ""."""
    process = start(client, "changeofname")
    boundary = "fuzzboundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nnull\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="z"\r\n\r\n500\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    response = client.post(
        f"{BASE}/changeofname/{process['id']}/documents",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert fields(problem_of(response, 400)) == ["", "z"]


@pytest.mark.parametrize(
    ("form_data", "stored"),
    [
        ({"a.b": 1}, False),
        ({"$set": 1}, False),
        ({"a$": 1, "": 2}, True),
        ({"n": 2**63 - 1, "m": -(2**63), "x": 1.5}, True),
        ({"n": 2**63}, False),
        ({"n": 1e19}, False),
        ({"n": -1e19}, False),
    ],
)
def test_form_data_limits_are_documented_and_agree_with_the_api(
    client: FlaskClient, spec, form_data: dict[str, Any], stored: bool
):
    """formData was documented as any object, but keys starting with `$` or holding `.`, and
    numbers beyond 64 bits, are refused (400) before storing: schema-valid requests refused.
    The limits are now the `FormData` schema, used by every body with formData (the nesting
    limit in its description); and numbers beyond 64 bits are refused however they are
    written (1e19 as well as 10**19), as the schema's minimum and maximum say."""
    schemas = spec["components"]["schemas"]
    for name in ("NewProcess", "NewProcessNamed", "ProcessData", "ProcessChange", "TriggerData"):
        assert schemas[name]["properties"]["formData"] == {"$ref": "#/components/schemas/FormData"}
    document = {**spec, "$ref": "#/components/schemas/FormData"}
    assert Draft202012Validator(document).is_valid(form_data) is stored

    process = start(client, "tenancyaudit")
    response = client.patch(
        f"{BASE}/tenancyaudit/{process['id']}",
        data=json.dumps({"processData": {"formData": form_data}}),
        content_type="application/json",
    )
    assert response.status_code == (200 if stored else 400), response.get_json()


def test_names_and_triggers_are_documented_as_enumerations(spec):
    """Process names and triggers were documented as any string. They are now the registered
    names and the client triggers, in paths and bodies, and PATCH's body says that formData
    and documents go with a trigger."""
    names = sorted(machines.registry())
    triggers = sorted({t for d in machines.registry().values() for t in d.client_triggers})
    path = "/process/{process_name}/{process_id}/{trigger}"
    assert path_parameter(spec, path, "patch", "process_name")["enum"] == names
    assert path_parameter(spec, path, "patch", "trigger")["enum"] == triggers
    schemas = spec["components"]["schemas"]
    assert schemas["NewProcessNamed"]["properties"]["processName"]["enum"] == names
    change = schemas["ProcessChange"]
    assert change["properties"]["trigger"]["enum"] == triggers
    assert change["dependentRequired"] == {"formData": ["trigger"], "documents": ["trigger"]}


def test_a_process_type_still_works_after_one_of_its_processes_ended(client: FlaskClient):
    """Each thread kept one state machine per process type for speed; once a process of that
    type reached a final state the machine was terminated and refused every later event, so
    starting or moving on any other process of the type in that thread was a 500."""
    ended = start(client, "changeofname")
    assert fire(client, ended, "CancelProcess", {"comment": "Withdrawn."}).status_code == 200
    again = start(client, "changeofname")
    response = fire(client, again, "EnterNewName", dict(NAME_FORM))
    assert response.status_code == 200, response.get_json()
    assert body_of(response)["currentState"]["state"] == "NameSubmitted"
    assert client.post(BASE, json=start_body("changeofname", targetId=new_id())).status_code == 201
