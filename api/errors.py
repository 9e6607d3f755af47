"""Map every failure to a problem+json response: no HTML pages, no stack traces."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Response, request
from werkzeug.exceptions import HTTPException

from api.auth import Unauthenticated
from api.problems import problem
from machines.errors import ProcessNotFound, ProcessTooLarge, StaleProcess
from services.authorisation import Forbidden
from services.errors import (
    Conflict,
    DataLocked,
    InvalidInput,
    InvalidPageToken,
    PreconditionFailed,
    ProcessEnded,
    TriggerNotAllowed,
    UnknownProcessName,
    UnknownTrigger,
)
from storage import UNAVAILABLE_ERRORS, StoreError
from storage.monitoring import count_failure

log = logging.getLogger(__name__)


def register(app: APIFlask) -> None:
    """Install the handlers on `app`."""
    app.error_processor(_http_error)

    @app.errorhandler(Unauthenticated)
    def unauthenticated(error: Unauthenticated) -> Response:
        return problem(
            401,
            str(error),
            slug="unauthenticated",
            title="Unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="processes"'},
        )

    @app.errorhandler(Forbidden)
    def forbidden(error: Forbidden) -> Response:
        return problem(403, str(error), slug="forbidden", title="Forbidden")

    @app.errorhandler(ProcessNotFound)
    def not_found(error: ProcessNotFound) -> Response:
        return problem(404, str(error), slug="process-not-found", title="Process not found")

    @app.errorhandler(UnknownProcessName)
    def unknown_name(error: UnknownProcessName) -> Response:
        return problem(404, str(error), slug="unknown-process-name", title="Unknown process name")

    @app.errorhandler(UnknownTrigger)
    def unknown_trigger(error: UnknownTrigger) -> Response:
        return problem(400, str(error), slug="unknown-trigger", title="Unknown trigger")

    @app.errorhandler(TriggerNotAllowed)
    def not_allowed(error: TriggerNotAllowed) -> Response:
        return problem(409, str(error), slug="trigger-not-allowed", title="Trigger not allowed")

    @app.errorhandler(ProcessEnded)
    def ended(error: ProcessEnded) -> Response:
        return problem(409, str(error), slug="process-ended", title="Process has ended")

    @app.errorhandler(Conflict)
    def conflict(error: Conflict) -> Response:
        return problem(409, str(error), slug="concurrent-change", title="Concurrent change")

    @app.errorhandler(DataLocked)
    def locked(error: DataLocked) -> Response:
        return problem(
            409,
            str(error),
            slug="state-data-locked",
            title="State data cannot be edited",
            errors=[
                {"field": f"processData.formData.{name}", "message": "Cannot be changed."}
                for name in error.fields
            ],
        )

    @app.errorhandler(ProcessTooLarge)
    def too_large(error: ProcessTooLarge) -> Response:
        return problem(422, str(error), slug="process-too-large", title="Case too large")

    @app.errorhandler(StaleProcess)
    def raced(error: StaleProcess) -> Response:
        return problem(
            409,
            "The process changed while this request was applied; read it again and retry.",
            slug="concurrent-change",
            title="Concurrent change",
        )

    @app.errorhandler(PreconditionFailed)
    def stale(error: PreconditionFailed) -> Response:
        return problem(
            412,
            str(error),
            slug="stale-etag",
            title="Precondition failed",
            headers={"ETag": f'"{error.actual}"'},
        )

    @app.errorhandler(InvalidInput)
    def invalid(error: InvalidInput) -> Response:
        errors = [{"field": e.field, "message": e.message} for e in error.errors]
        if error.unprocessable:
            return problem(
                422, str(error), slug="invalid-form-data", title="Invalid form data", errors=errors
            )
        return problem(
            400, str(error), slug="invalid-request", title="Invalid request", errors=errors
        )

    @app.errorhandler(InvalidPageToken)
    def bad_token(error: InvalidPageToken) -> Response:
        return problem(
            400,
            str(error),
            slug="invalid-request",
            title="Invalid request",
            errors=[{"field": "paginationToken", "message": str(error)}],
        )

    @app.errorhandler(StoreError)
    def store_error(error: Exception) -> Response:
        count_failure(error)
        if isinstance(error, UNAVAILABLE_ERRORS):
            log.warning("database unavailable: %s", error)
            return problem(
                503,
                "The process store is not answering; try again shortly.",
                slug="store-unavailable",
                title="Service unavailable",
                headers={"Retry-After": "5"},
            )
        log.exception("database error")
        return problem(500, "The request could not be completed.", slug="internal-error")

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return _werkzeug_error(error)
        log.exception("unhandled error")
        return problem(500, "The request could not be completed.", slug="internal-error")


def _http_error(error: HTTPError) -> Response:
    """apiflask's errors: request validation failures and HTTP errors raised by Flask."""
    errors = list(_field_errors(error.detail))
    detail = error.message or ""
    if errors:
        detail = "The request is not valid: " + "; ".join(
            f"{e['field']}: {e['message']}" for e in errors
        )
    elif error.status_code == 400 and request.data and request.get_json(silent=True) is None:
        detail = "The request body is not valid JSON."
    elif error.status_code == 415:
        detail = "Send the request body as application/json."
    elif error.status_code == 405:
        detail = "This method is not allowed on this resource."
    elif error.status_code == 404:
        detail = "There is no resource at this address."
    headers = {str(k): str(v) for k, v in dict(error.headers or {}).items()}
    return problem(error.status_code, detail, errors=errors or None, headers=headers)


def _werkzeug_error(error: HTTPException) -> Response:
    status = error.code or 500
    detail = error.description or ""
    if status == 400 and "JSON" in detail:
        detail = "The request body is not valid JSON."
    return problem(status, detail)


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten marshmallow's nested {location: {field: [messages]}} into field/message pairs."""
    found: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if key not in ("json", "query", "path", "headers") else ""
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                found.extend({"field": path, "message": message} for message in value)
            else:
                found.extend(_field_errors(value, path))
    return found
