"""HTTP endpoints for the files attached to a process: upload, list, download, delete.

Uploads are multipart/form-data with one `file` part. They may be larger than the 1 MB the
JSON endpoints accept: the limit is raised for the upload route alone, to `MAX_UPLOAD_BYTES`
(20 MB by default) plus room for the multipart envelope, and the file itself is measured
against `MAX_UPLOAD_BYTES`. Accepted types (`ALLOWED_UPLOAD_TYPES`, PDF, JPEG, PNG, HEIC and
DOCX by default) are checked from the file's bytes.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any
from urllib.parse import quote

from apiflask import APIBlueprint, Schema
from apiflask.fields import DateTime, Dict, File, Integer, List, Nested, String
from apiflask.schemas import FileSchema
from flask import Response, current_app, json, request, url_for
from marshmallow import RAISE
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from api import openapi
from api.deps import context, dispatcher, if_match, repository
from api.problems import problem
from api.representation import etag, iso
from api.schemas import path_id
from machines.errors import DocumentNotFound
from machines.model import DocumentInfo
from services import documents
from services.errors import FieldError, InvalidInput
from storage.documents import DocumentStore, document_store

bp = APIBlueprint("documents", __name__, url_prefix="/api/v1", tag="Documents")

ERRORS = openapi.problem_responses
ROUTE = "/process/<process_name>/<process_id>/documents"
MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart boundaries and part headers around the file."""
_INDEXED = "documents.indexed"


class UploadForm(Schema):
    """One file, in the multipart part named `file`."""

    class Meta:
        unknown = RAISE

    # Required, but checked by the use case: a caller without access to the process gets 403
    # whatever the body holds.
    file = File(
        metadata={
            "description": "Required. The document: PDF, JPEG, PNG, HEIC or DOCX, as configured."
        },
    )


class DocumentOut(Schema):
    """A document's metadata."""

    id = String(metadata={"format": "uuid"})
    processId = String(metadata={"format": "uuid"})
    filename = String(
        metadata={
            "description": "The uploaded name, without any path, control "
            "characters or quotes; at most 200 characters."
        }
    )
    contentType = String(metadata={"description": "Detected from the file's bytes."})
    size = Integer(metadata={"description": "In bytes."})
    sha256 = String(metadata={"description": "Hex digest of the content; also the ETag."})
    state = String(metadata={"description": "The state the process was in when attached."})
    uploadedBy = Dict(allow_none=True)
    uploadedAt = DateTime()


class DocumentList(Schema):
    """The documents stored for a process, newest first."""

    results = List(Nested(DocumentOut))


@bp.before_request
def allow_upload_size() -> None:
    """Let the upload route, and only it, take bodies larger than the app-wide limit."""
    if request.endpoint == "documents.upload":
        request.max_content_length = _limits().max_bytes + MULTIPART_OVERHEAD


@bp.post(ROUTE)
@bp.input(UploadForm, location="files", arg_name="form")
@bp.output(DocumentOut, status_code=201, description="The stored document's metadata.")
@bp.doc(
    summary="Upload a document to a process",
    description="Stores the file and attaches it to the current state's `documents`; the "
    "attachment is recorded in the process's activity and published as `DocumentAttached`. "
    "Not allowed once the process has ended (409). With If-Match, refused (412) unless the "
    "process is still at that version.",
    responses={
        201: {
            "description": "The stored document's metadata.",
            "headers": {
                "Location": {
                    "description": "Where to download the document.",
                    "schema": {"type": "string"},
                },
                "ETag": {
                    "description": "The process's new version, to send as If-Match next.",
                    "schema": {"type": "string"},
                },
            },
        },
        **ERRORS(400, 404, 409, 412, 413, 415, 422),
    },
)
def upload(process_name: str, process_id: str, form: dict[str, Any]) -> Response:
    """Store the uploaded file and attach it to the process."""
    process_id = path_id(process_id, "id")
    # webargs ignores unknown multipart fields; say so rather than drop them silently. A part
    # without a name is listed under None: report it as the field "".
    unexpected = sorted({name or "" for name in (*request.form, *request.files)} - {"file"})
    if unexpected:
        raise InvalidInput(
            "Send only the file, in the part named `file`.",
            [FieldError(name, "Unknown field.") for name in unexpected],
            unprocessable=False,
        )
    if len(request.files.getlist("file")) > 1:
        raise InvalidInput(
            "Send exactly one file, in the part named `file`.",
            [FieldError("file", "Exactly one file is accepted per request.")],
            unprocessable=False,
        )
    file: FileStorage | None = form.get("file")
    attached = documents.attach(
        repository(),
        _files(),
        process_name,
        process_id,
        documents.Upload(file.filename, file.stream) if file is not None else None,
        _limits(),
        context(),
        dispatcher(),
        expected_version=if_match(),
    )
    info = attached.info
    location = url_for(
        "documents.download", process_name=process_name, process_id=process_id, document_id=info.id
    )
    return _json(document_json(info), 201, Location=location, ETag=etag(attached.process))


@bp.get(ROUTE)
@bp.output(DocumentList, description="The process's documents, newest first.")
@bp.doc(summary="List a process's documents", responses=ERRORS(400, 404))
def list_documents(process_name: str, process_id: str) -> Response:
    """The metadata of the documents stored for the process."""
    found = documents.list_documents(
        repository(), _files(), process_name, path_id(process_id, "id"), context()
    )
    return _json({"results": [document_json(info) for info in found]}, 200)


@bp.get(f"{ROUTE}/<document_id>")
@bp.output(
    FileSchema(type="string", format="binary"),
    # The stored type: one of ALLOWED_UPLOAD_TYPES, which the deployment configures.
    content_type="*/*",
    description="The file, with the Content-Type detected when it was uploaded (by default "
    "application/pdf, image/jpeg, image/png, image/heic or the DOCX type).",
)
@bp.doc(
    summary="Download a document",
    description="Streams the file as an attachment. Its ETag is the sha256 of the content; "
    "send it in If-None-Match to get 304 when unchanged.",
    responses={
        304: {"description": "The copy named by If-None-Match is current (no body)."},
        **ERRORS(400, 404),
    },
)
def download(process_name: str, process_id: str, document_id: str) -> Response:
    """Stream the document's bytes."""
    found = documents.download(
        repository(),
        _files(),
        process_name,
        path_id(process_id, "id"),
        path_id(document_id, "documentId"),
        context(),
    )
    info = found.info
    headers = {"ETag": f'"{info.sha256}"'}  # Cache-Control: no-store, as all case data
    if request.if_none_match.contains_weak(info.sha256):
        return Response(status=304, headers=headers)
    response = Response(
        found.open(), mimetype=info.content_type, headers=headers, direct_passthrough=True
    )
    response.content_length = info.size
    response.headers["Content-Disposition"] = content_disposition(info.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.delete(f"{ROUTE}/<document_id>")
@bp.output(
    {},
    status_code=204,
    description="The document was detached and deleted; ETag is the process's new version.",
)
@bp.doc(
    summary="Delete a document",
    description="Removes it from the current state's `documents`, records `DocumentRemoved` "
    "in the activity and as an event, then deletes the file. Not allowed once the process "
    "has ended (409). With If-Match, refused (412) unless the process is still at that "
    "version.",
    responses=ERRORS(400, 404, 409, 412),
)
def delete(process_name: str, process_id: str, document_id: str) -> Response:
    """Detach and delete the document."""
    process = documents.remove(
        repository(),
        _files(),
        process_name,
        path_id(process_id, "id"),
        path_id(document_id, "documentId"),
        context(),
        dispatcher(),
        expected_version=if_match(),
    )
    return Response(status=204, headers={"ETag": etag(process)})


@bp.errorhandler(DocumentNotFound)
def not_found(error: DocumentNotFound) -> Response:
    """No such document on this process."""
    return problem(
        404,
        f"The process has no document {error.document_id}.",
        slug="document-not-found",
        title="Document not found",
    )


@bp.errorhandler(documents.DocumentTooLarge)
def too_large(error: documents.DocumentTooLarge) -> Response:
    """The file is over the size limit."""
    return problem(413, str(error), slug="document-too-large", title="Document too large")


@bp.errorhandler(RequestEntityTooLarge)
def body_too_large(error: RequestEntityTooLarge) -> Response:
    """The request body is over the limit, before the file could be measured."""
    limit = _limits().max_bytes if request.endpoint == "documents.upload" else None
    if limit is None:
        return problem(413, "The request body is too large.", slug="request-too-large")
    return problem(
        413,
        str(documents.DocumentTooLarge(limit)),
        slug="document-too-large",
        title="Document too large",
    )


@bp.errorhandler(documents.UnsupportedDocumentType)
def unsupported(error: documents.UnsupportedDocumentType) -> Response:
    """The file's content is not an accepted type."""
    return problem(
        415, str(error), slug="unsupported-document-type", title="Unsupported document type"
    )


def document_json(info: DocumentInfo) -> dict[str, Any]:
    """A document's metadata as clients see it."""
    return {
        "id": info.id,
        "processId": info.process_id,
        "filename": info.filename,
        "contentType": info.content_type,
        "size": info.size,
        "sha256": info.sha256,
        "state": info.state,
        "uploadedBy": info.uploaded_by,
        "uploadedAt": iso(info.uploaded_at),
    }


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII `filename` for old clients and the UTF-8 `filename*`
    (RFC 6266, RFC 5987)."""
    decomposed = unicodedata.normalize("NFKD", filename)
    ascii_name = (
        "".join(
            c if 32 <= ord(c) < 127 and c not in '"\\%' else "_"
            for c in decomposed
            if not unicodedata.combining(c)
        ).strip()
        or "document"
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _limits() -> documents.Limits:
    """Upload limits: the app's config (tests set it), else the environment, else defaults."""
    # Read here rather than in settings.py so that a test can change app.config per app.
    config = current_app.config
    max_bytes = config.get("MAX_UPLOAD_BYTES") or os.environ.get("MAX_UPLOAD_BYTES")
    types = config.get("ALLOWED_UPLOAD_TYPES") or os.environ.get("ALLOWED_UPLOAD_TYPES")
    return documents.Limits(
        max_bytes=int(max_bytes) if max_bytes else documents.DEFAULT_MAX_BYTES,
        allowed_types=_types(types) if types else documents.DEFAULT_ALLOWED_TYPES,
    )


def _types(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """MIME types, or the short names PDF, JPEG, PNG, HEIC, DOCX, as a list or comma-separated."""
    names = value.split(",") if isinstance(value, str) else value
    by_name = {name: mime for mime, name in documents.TYPE_NAMES.items()}
    return tuple(by_name.get(n.strip().upper(), n.strip().lower()) for n in names if n.strip())


def _files() -> DocumentStore:
    store = document_store(current_app.extensions["settings"])
    if not current_app.extensions.get(_INDEXED):
        store.create_indexes()  # idempotent; once per app, on first use
        current_app.extensions[_INDEXED] = True
    return store


def _json(body: Any, status: int, **headers: str) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in headers.items():
        response.headers[name] = value
    return response
