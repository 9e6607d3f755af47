"""Documents attached to a process: upload, list, download, delete, limits and the
ReviewDocuments requirement, over HTTP against the real database (GridFS)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.documents import content_disposition
from machines.model import DocumentInfo
from services import documents
from services.context import Context
from services.errors import ProcessEnded
from storage.documents import DocumentStore
from tests.support import BASE, body_of, fire, new_id, start

PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64
HEIC_BYTES = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

NAME_FORM = {"title": "Mr", "firstName": "Al", "surname": "Li"}
REVIEW_FORM = {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True}


def zip_of(names: list[str]) -> bytes:
    """A ZIP archive holding `names`, each with a little XML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?><x/>')
    return buffer.getvalue()


DOCX_BYTES = zip_of(["[Content_Types].xml", "_rels/.rels", "word/document.xml"])


def documents_url(process: dict[str, Any]) -> str:
    return f"{BASE}/{process['processName']}/{process['id']}/documents"


def upload(
    client: FlaskClient,
    process: dict[str, Any],
    content: bytes,
    filename: str = "scan.pdf",
    content_type: str = "application/pdf",
) -> TestResponse:
    response = client.post(
        documents_url(process),
        data={"file": (io.BytesIO(content), filename, content_type)},
        content_type="multipart/form-data",
    )
    # The test client spools bodies over 500 KB to a temporary file and, without
    # follow_redirects, leaves it open.
    response.request.environ["wsgi.input"].close()
    return response


def upload_raw(
    client: FlaskClient, process: dict[str, Any], disposition: str, content: bytes = PDF_BYTES
) -> TestResponse:
    """Upload with a hand-written part header, to send names a form library would rewrite."""
    boundary = "b0undary-7f3a"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; {disposition}\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        documents_url(process),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def uploaded(
    client: FlaskClient,
    process: dict[str, Any],
    content: bytes = PDF_BYTES,
    filename: str = "scan.pdf",
) -> dict[str, Any]:
    response = upload(client, process, content, filename)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def current(client: FlaskClient, process: dict[str, Any]) -> dict[str, Any]:
    return body_of(client.get(f"{BASE}/{process['processName']}/{process['id']}"))


def documents_requested(client: FlaskClient) -> dict[str, Any]:
    process = start(client, "changeofname")
    assert fire(client, process, "EnterNewName", NAME_FORM).status_code == 200
    response = fire(client, process, "RequestDocumentsDes")
    assert response.status_code == 200, response.get_json()
    return body_of(response)


def cancelled(client: FlaskClient) -> dict[str, Any]:
    process = start(client, "changeofname")
    response = fire(client, process, "CancelProcess", {"comment": "Withdrawn."})
    assert body_of(response)["currentState"]["state"] == "ProcessCancelled"
    return body_of(response)


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    return dict(response.get_json())


def stored_files(db) -> int:  # type: ignore[no-untyped-def]
    return int(db["documents.files"].count_documents({}))


# --- upload and download --------------------------------------------------------------------


def test_upload_and_download_round_trip_keeps_the_bytes(client: FlaskClient, dispatched, db):
    """A 1.5 MB PDF (over the JSON limit, several GridFS chunks) comes back byte for byte."""
    process = documents_requested(client)
    content = PDF_BYTES + bytes(range(256)) * 6000
    response = upload(client, process, content, "Tenancy agreement.pdf")

    assert response.status_code == 201, response.get_json()
    meta = response.get_json()
    digest = hashlib.sha256(content).hexdigest()
    assert meta["sha256"] == digest
    assert meta["size"] == len(content)
    assert meta["contentType"] == "application/pdf"
    assert meta["filename"] == "Tenancy agreement.pdf"
    assert meta["processId"] == process["id"]
    assert meta["state"] == "DocumentsRequestedDes"
    assert meta["uploadedBy"]["name"] == "Test Officer"
    assert meta["uploadedAt"].endswith("Z")
    assert response.headers["Location"] == f"{documents_url(process)}/{meta['id']}"

    download = client.get(response.headers["Location"])
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == digest
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(content))
    assert download.headers["ETag"] == f'"{digest}"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Tenancy agreement.pdf\"; filename*=UTF-8''Tenancy%20agreement.pdf"
    )
    assert stored_files(db) == 1


def test_upload_attaches_to_the_current_state_with_activity_and_event(client, dispatched):
    """The id joins the current state's documents; DocumentAttached is recorded and published."""
    process = documents_requested(client)
    meta = uploaded(client, process)

    body = current(client, process)
    assert body["currentState"]["processData"]["documents"] == [meta["id"]]
    assert body["version"] == process["version"] + 1
    (activity,) = [a for a in body["activity"] if a["kind"] == "DocumentAttached"]
    assert activity["state"] == "DocumentsRequestedDes"
    assert activity["actedBy"]["name"] == "Test Officer"
    assert {k: activity["details"][k] for k in ("id", "filename", "size", "sha256")} == {
        k: meta[k] for k in ("id", "filename", "size", "sha256")
    }
    (event,) = [f for f in dispatched.for_process(process["id"]) if f.name == "DocumentAttached"]
    assert event.payload["entityId"] == process["id"]
    assert event.payload["eventData"]["newData"]["id"] == meta["id"]
    assert event.payload["eventData"]["newData"]["sha256"] == meta["sha256"]


def test_list_shows_the_process_documents_newest_first(client: FlaskClient):
    """The listing has each attached document's metadata, the latest upload first."""
    process = documents_requested(client)
    first = uploaded(client, process, PDF_BYTES, "first.pdf")
    second = uploaded(client, process, PNG_BYTES, "second.png")
    other = documents_requested(client)
    uploaded(client, other, PDF_BYTES, "elsewhere.pdf")

    response = client.get(documents_url(process))
    assert response.status_code == 200
    assert response.get_json()["results"] == [second, first]


def test_if_none_match_with_the_sha256_gives_304(client: FlaskClient):
    """A client holding the current copy gets 304 with the ETag and no body."""
    process = documents_requested(client)
    meta = uploaded(client, process)
    url = f"{documents_url(process)}/{meta['id']}"

    response = client.get(url, headers={"If-None-Match": f'"{meta["sha256"]}"'})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == f'"{meta["sha256"]}"'
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


# --- delete ---------------------------------------------------------------------------------


def test_delete_detaches_records_and_removes_the_file(client: FlaskClient, dispatched, db):
    """DELETE takes the id off the current state, records DocumentRemoved, and deletes the file."""
    process = documents_requested(client)
    meta = uploaded(client, process)
    url = f"{documents_url(process)}/{meta['id']}"

    response = client.delete(url)
    assert response.status_code == 204

    body = current(client, process)
    assert body["currentState"]["processData"]["documents"] == []
    (activity,) = [a for a in body["activity"] if a["kind"] == "DocumentRemoved"]
    assert activity["details"]["id"] == meta["id"]
    assert activity["details"]["filename"] == meta["filename"]
    assert "DocumentRemoved" in [f.name for f in dispatched.for_process(process["id"])]
    assert stored_files(db) == 0
    assert_problem(client.get(url), 404)
    assert client.get(documents_url(process)).get_json()["results"] == []
    assert_problem(client.delete(url), 404)


def test_delete_once_the_process_has_ended_is_409(client: FlaskClient, db):
    """A finished process keeps its documents: DELETE is refused and the file stays."""
    process = start(client, "changeofname")
    meta = uploaded(client, process)
    response = fire(client, process, "CancelProcess", {"comment": "Withdrawn."})
    assert body_of(response)["currentState"]["state"] == "ProcessCancelled"

    assert_problem(client.delete(f"{documents_url(process)}/{meta['id']}"), 409)
    assert client.get(f"{documents_url(process)}/{meta['id']}").status_code == 200
    assert stored_files(db) == 1


def test_upload_once_the_process_has_ended_is_409_and_stores_nothing(client: FlaskClient, db):
    """No file is added to a finished process."""
    process = cancelled(client)
    assert_problem(upload(client, process, PDF_BYTES), 409)
    assert stored_files(db) == 0


def test_another_process_document_is_not_found(client: FlaskClient):
    """A document id is only found through the process it belongs to."""
    owner = documents_requested(client)
    meta = uploaded(client, owner)
    other = documents_requested(client)
    url = f"{documents_url(other)}/{meta['id']}"

    assert_problem(client.get(url), 404)
    assert_problem(client.delete(url), 404)
    assert client.get(f"{documents_url(owner)}/{meta['id']}").status_code == 200


def test_unknown_document_and_malformed_ids(client: FlaskClient):
    """An unknown document is 404; ids that are not UUIDs are 400."""
    process = documents_requested(client)
    assert_problem(client.get(f"{documents_url(process)}/{new_id()}"), 404)
    assert_problem(client.get(f"{documents_url(process)}/not-a-uuid"), 400)
    assert_problem(client.get(f"{BASE}/changeofname/not-a-uuid/documents"), 400)
    assert_problem(client.get(f"{BASE}/changeofname/{new_id()}/documents"), 404)


# --- limits ---------------------------------------------------------------------------------


def test_upload_over_the_size_limit_is_413(client: FlaskClient, app, db):
    """Over MAX_UPLOAD_BYTES is refused, whether the file or the whole body is measured."""
    app.config["MAX_UPLOAD_BYTES"] = 1024
    process = documents_requested(client)

    just_over = assert_problem(upload(client, process, PDF_BYTES.ljust(1025, b" ")), 413)
    far_over = assert_problem(upload(client, process, PDF_BYTES.ljust(512 * 1024, b" ")), 413)
    for problem in (just_over, far_over):
        assert problem["detail"] == "The file is larger than the 1 KB allowed."
    assert upload(client, process, PDF_BYTES.ljust(1024, b" ")).status_code == 201
    assert stored_files(db) == 1


def test_json_endpoints_keep_their_own_body_limit(client: FlaskClient):
    """Raising the limit for uploads leaves the 1 MB limit on JSON requests."""
    process = documents_requested(client)
    response = client.patch(
        f"{BASE}/{process['processName']}/{process['id']}",
        json={"processData": {"formData": {"note": "x" * (1024 * 1024)}}},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("content", "filename", "declared"),
    [
        pytest.param(
            b"just some text, not an image\n", "photo.png", "image/png", id="text-as-png"
        ),
        pytest.param(EXE_BYTES, "setup.exe", "application/octet-stream", id="exe"),
        pytest.param(EXE_BYTES, "letter.pdf", "application/pdf", id="exe-as-pdf"),
        pytest.param(zip_of(["a.txt", "b.txt"]), "letter.docx", DOCX_TYPE, id="zip-as-docx"),
    ],
)
def test_upload_of_a_type_not_allowed_is_415(
    client: FlaskClient, db, content: bytes, filename: str, declared: str
):
    """The type comes from the bytes: a misnamed or mislabelled file is refused, naming the
    accepted types."""
    process = documents_requested(client)
    problem = assert_problem(upload(client, process, content, filename, declared), 415)
    assert "PDF, JPEG, PNG, HEIC, DOCX" in problem["detail"]
    assert stored_files(db) == 0
    assert current(client, process)["currentState"]["processData"]["documents"] == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(DOCX_BYTES, DOCX_TYPE, id="docx"),
        pytest.param(
            zip_of(["word/document.xml", "[Content_Types].xml"]), DOCX_TYPE, id="docx-other-order"
        ),
        pytest.param(PNG_BYTES, "image/png", id="png"),
        pytest.param(JPEG_BYTES, "image/jpeg", id="jpeg"),
        pytest.param(HEIC_BYTES, "image/heic", id="heic"),
    ],
)
def test_allowed_types_are_accepted_with_the_detected_type(
    client: FlaskClient, content: bytes, expected: str
):
    """Each default type is accepted and stored under the type found in its bytes."""
    process = documents_requested(client)
    response = upload(client, process, content, "file.bin", "application/octet-stream")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["contentType"] == expected
    download = client.get(response.headers["Location"])
    assert download.headers["Content-Type"] == expected
    assert download.data == content


def test_allowed_types_are_configurable(client: FlaskClient, app):
    """With only PDF allowed, a PNG is refused and the detail says PDF."""
    app.config["ALLOWED_UPLOAD_TYPES"] = "PDF"
    process = documents_requested(client)
    problem = assert_problem(upload(client, process, PNG_BYTES, "a.png", "image/png"), 415)
    assert "accepted types are PDF " in problem["detail"]
    assert upload(client, process, PDF_BYTES).status_code == 201


def test_upload_without_a_file_is_400(client: FlaskClient, db):
    """No `file` part, an empty file, two files or an extra field: 400, nothing stored."""
    process = documents_requested(client)
    url = documents_url(process)
    assert_problem(client.post(url, data={}, content_type="multipart/form-data"), 400)
    assert_problem(client.post(url, json={"file": "x"}), 400)
    assert_problem(upload(client, process, b""), 400)
    two = [(io.BytesIO(PDF_BYTES), "a.pdf"), (io.BytesIO(PDF_BYTES), "b.pdf")]
    assert_problem(client.post(url, data={"file": two}, content_type="multipart/form-data"), 400)
    extra = {"file": (io.BytesIO(PDF_BYTES), "a.pdf"), "$where": "1"}
    problem = assert_problem(client.post(url, data=extra, content_type="multipart/form-data"), 400)
    assert problem["errors"] == [{"field": "$where", "message": "Unknown field."}]
    assert stored_files(db) == 0


def test_upload_to_a_full_state_is_422(client: FlaskClient, db):
    """A state holds at most as many documents as a trigger may send (100)."""
    process = documents_requested(client)
    full = [new_id() for _ in range(documents.MAX_DOCUMENTS_PER_STATE)]
    response = client.patch(
        f"{BASE}/changeofname/{process['id']}", json={"processData": {"documents": full}}
    )
    assert response.status_code == 200, response.get_json()
    assert_problem(upload(client, process, PDF_BYTES), 422)
    assert stored_files(db) == 0


# --- filenames ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        pytest.param('filename="../../etc/passwd"', "passwd", id="path"),
        pytest.param('filename="C:\\\\Users\\\\me\\\\scan.pdf"', "scan.pdf", id="windows-path"),
        pytest.param('filename="my \\"best\\" file.pdf"', "my best file.pdf", id="quotes"),
        pytest.param(
            "filename*=UTF-8''line%0Abreak%0D%0A%22quoted%22%27.pdf",
            "line break quoted.pdf",
            id="newlines-and-quotes",
        ),
        pytest.param(
            "filename*=UTF-8''invoice%E2%80%AEfdp.exe", "invoicefdp.exe", id="bidi-override"
        ),
        pytest.param("filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", "résumé.pdf", id="accents"),
        pytest.param('filename=".."', "document", id="dots-only"),
    ],
)
def test_filenames_are_sanitised(client: FlaskClient, disposition: str, expected: str):
    """No path parts, control characters or quotes reach the store or the download header."""
    process = documents_requested(client)
    response = upload_raw(client, process, disposition)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["filename"] == expected
    header = client.get(response.headers["Location"]).headers["Content-Disposition"]
    assert header.startswith('attachment; filename="')
    assert "\n" not in header
    assert "\r" not in header


def test_long_filenames_keep_their_extension():
    """Names are cut to 200 characters, keeping the extension."""
    name = documents.safe_filename("a" * 300 + ".pdf")
    assert len(name) == 200
    assert name.endswith("a.pdf")


def test_content_disposition_has_an_ascii_name_and_the_utf8_one():
    """RFC 6266: a plain filename for old clients, and filename* with the exact name."""
    assert content_disposition("résumé 100%.pdf") == (
        "attachment; filename=\"resume 100_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20100%25.pdf"
    )
    assert content_disposition("合同.pdf") == (
        "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E5%90%88%E5%90%8C.pdf"
    )


# --- ReviewDocuments ------------------------------------------------------------------------


def test_review_documents_needs_an_attached_document(client: FlaskClient):
    """ReviewDocuments is refused (422) until a document is attached, then it goes through."""
    process = documents_requested(client)
    refused = assert_problem(fire(client, process, "ReviewDocuments", REVIEW_FORM), 422)
    messages = [error["message"] for error in refused["errors"]]
    assert messages == ["ReviewDocuments needs at least one attached document."]

    uploaded(client, process)
    response = fire(client, process, "ReviewDocuments", REVIEW_FORM)
    assert response.status_code == 200, response.get_json()
    assert body_of(response)["currentState"]["state"] == "DocumentChecksPassed"


def test_review_documents_accepts_an_external_document_id(client: FlaskClient):
    """An id from an external document store, sent with a trigger, counts as attached."""
    process = start(client, "changeofname")
    assert fire(client, process, "EnterNewName", NAME_FORM).status_code == 200
    response = client.patch(
        f"{BASE}/changeofname/{process['id']}",
        json={"trigger": "RequestDocumentsDes", "formData": {}, "documents": [new_id()]},
    )
    assert response.status_code == 200, response.get_json()
    assert fire(client, process, "ReviewDocuments", REVIEW_FORM).status_code == 200


def test_a_deleted_document_no_longer_counts_for_review(client: FlaskClient):
    """Uploading then deleting the only document leaves ReviewDocuments refused."""
    process = documents_requested(client)
    meta = uploaded(client, process)
    assert client.delete(f"{documents_url(process)}/{meta['id']}").status_code == 204
    assert_problem(fire(client, process, "ReviewDocuments", REVIEW_FORM), 422)


# --- a failed attachment leaves no file -----------------------------------------------------


class EndsTheProcessWhileStoring(DocumentStore):
    """A real store that, as a concurrent request might, closes the process mid-upload."""

    def __init__(self, db, client: FlaskClient, process: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
        super().__init__(db)
        self._client, self._process = client, process

    def put(self, document: DocumentInfo, source: Any) -> None:
        super().put(document, source)
        response = fire(self._client, self._process, "CloseProcess", {"hasNotifiedResident": True})
        assert response.status_code == 200, response.get_json()


def test_file_is_deleted_when_the_process_ends_during_the_upload(client, app, db):
    """If the process cannot take the document after all, the stored file is removed."""
    process = documents_requested(client)
    files = EndsTheProcessWhileStoring(db, client, process)
    upload_ = documents.Upload("late.pdf", io.BytesIO(PDF_BYTES))

    with pytest.raises(ProcessEnded):
        documents.attach(
            app.extensions["repository"](),
            files,
            "changeofname",
            process["id"],
            upload_,
            documents.Limits(),
            Context(),
            lambda *_: None,
        )
    assert stored_files(db) == 0
    assert current(client, process)["currentState"]["processData"]["documents"] == []
