"""A case's documents on its page: upload, download, and removal after a confirmation page.

The upload route takes bodies up to the upload limit (the app-wide limit is 1 MB). Its hook
must run before `ui.session.identify` reads the form for its CSRF token: modules register
their hooks in the order `ui.register` imports them, and this one comes first.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from api.deps import context, dispatcher, repository
from api.documents import MULTIPART_OVERHEAD, content_disposition
from services import documents
from services.errors import InvalidInput, ProcessEnded
from ui import loading
from ui.blueprint import bp
from ui.cases import case_page
from ui.deps import files, limits

ROUTE = "/cases/<process_name>/<process_id>/documents"


@bp.before_request
def allow_upload_size() -> None:
    """Let the upload, and only it, take a body as large as a document may be."""
    if request.endpoint == "ui.upload":
        request.max_content_length = limits().max_bytes + MULTIPART_OVERHEAD


@bp.post(ROUTE)
def upload(process_name: str, process_id: str) -> BaseResponse | tuple[str, int]:
    """Attach the file chosen to the case."""
    loading.case(process_name, process_id)
    file = request.files.get("file")
    chosen = documents.Upload(file.filename, file.stream) if file and file.filename else None
    try:
        attached = documents.attach(
            repository(),
            files(),
            process_name,
            process_id,
            chosen,
            limits(),
            context(),
            dispatcher(),
        )
    except InvalidInput as refused:
        message = "Select a file to upload" if chosen is None else "The selected file is empty"
        if refused.errors and "room" in refused.errors[0].message:
            message = refused.errors[0].message
        return case_page(process_name, process_id, message), 422
    except documents.DocumentTooLarge as refused:
        size = documents.describe_size(refused.max_bytes)
        return case_page(
            process_name, process_id, f"The selected file must be smaller than {size}"
        ), 413
    except documents.UnsupportedDocumentType:
        allowed = ", ".join(documents.TYPE_NAMES.get(t, t) for t in limits().allowed_types)
        return case_page(process_name, process_id, f"The selected file must be a {allowed}"), 415
    except ProcessEnded:
        return case_page(
            process_name, process_id, "The case has ended: no more documents can be added"
        ), 409
    flash(f"{attached.info.filename} uploaded.")
    return redirect(
        url_for("ui.case", process_name=process_name, process_id=process_id) + "#documents"
    )


@bp.get(f"{ROUTE}/<document_id>")
def download(process_name: str, process_id: str, document_id: str) -> Response:
    """The document's bytes, as an attachment."""
    loading.case(process_name, process_id)
    found = documents.download(
        repository(),
        files(),
        process_name,
        process_id,
        loading.uuid_or_404(document_id),
        context(),
    )
    info = found.info
    response = Response(found.open(), mimetype=info.content_type, direct_passthrough=True)
    response.content_length = info.size
    response.headers["Content-Disposition"] = content_disposition(info.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route(f"{ROUTE}/<document_id>/remove", methods=["GET", "POST"])
def remove_document(process_name: str, process_id: str, document_id: str) -> BaseResponse | str:
    """Ask to confirm, then remove the document from the case."""
    definition, process = loading.case(process_name, process_id)
    found = documents.download(
        repository(),
        files(),
        process_name,
        process_id,
        loading.uuid_or_404(document_id),
        context(),
    )
    if request.method == "POST":
        documents.remove(
            repository(),
            files(),
            process_name,
            process_id,
            found.info.id,
            context(),
            dispatcher(),
        )
        flash(f"{found.info.filename} removed.")
        return redirect(
            url_for("ui.case", process_name=process_name, process_id=process_id) + "#documents"
        )
    return render_template(
        "ui/remove_document.html",
        title=f"Are you sure you want to remove {found.info.filename}?",
        process=process,
        definition=definition,
        document=found.info,
    )
