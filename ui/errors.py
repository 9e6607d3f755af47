"""Error pages for browsers: HTML in the service's layout, never a stack trace.

Failures inside the pages render here. Outside them, an address nobody serves gets an HTML
page when a browser asks for one, and the API's problem+json otherwise (paths under /api/
always get problem+json).
"""

from __future__ import annotations

import logging

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from machines.errors import DocumentNotFound, ProcessNotFound
from services.authorisation import Forbidden
from services.errors import UnknownProcessName, UnknownTrigger
from storage import UNAVAILABLE_ERRORS, StoreError
from ui.blueprint import bp

log = logging.getLogger(__name__)

TITLES = {
    400: "Sorry, there is a problem with the service",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "Page not found",
    413: "The file is too large",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def page(status: int, message: str | None = None) -> tuple[str, int]:
    """The error page for `status`, optionally saying what went wrong in plain words."""
    return (
        render_template(
            "ui/error.html", status=status, title=TITLES.get(status, TITLES[500]), message=message
        ),
        status,
    )


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> tuple[str, int]:
    """A form without a valid CSRF token: nothing was done."""
    return page(
        400,
        "The form you sent had expired or did not come from this service. Go back, reload "
        "the page and try again.",
    )


@bp.errorhandler(Forbidden)
def forbidden(error: Forbidden) -> tuple[str, int]:
    """A case or step the officer may not see or take."""
    return page(403, str(error))


@bp.errorhandler(ProcessNotFound)
@bp.errorhandler(UnknownProcessName)
@bp.errorhandler(UnknownTrigger)
@bp.errorhandler(DocumentNotFound)
def not_found(error: Exception) -> tuple[str, int]:
    """No such case, process, step or document."""
    return page(404)


@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int]:
    """Any other HTTP error, on its page."""
    status = error.code or 500
    # abort(status, message) gives a message meant for the officer; werkzeug's defaults are not.
    default = type(error).description
    message = error.description if error.description != default else None
    return page(status, message)


@bp.errorhandler(StoreError)
def store_error(error: Exception) -> tuple[str, int]:
    """The database failed or did not answer."""
    if isinstance(error, UNAVAILABLE_ERRORS):
        log.warning("database unavailable: %s", error)
        return page(503, "The case records are not answering. Try again in a few minutes.")
    log.exception("database error")
    return page(500)


@bp.errorhandler(Exception)
def unexpected(error: Exception) -> tuple[str, int]:
    """Anything else: logged, and a page without a stack trace."""
    log.exception("unhandled error on a page")
    return page(500)


def configure(app: Flask) -> None:
    """Answer browsers with HTML for addresses nobody serves (outside the API)."""

    def missing(error: HTTPException) -> Response | tuple[str, int]:
        """HTML for a browser, the API's problem+json for anyone else."""
        if wants_html():
            return page(error.code or 404)
        if isinstance(app, APIFlask):
            # What the API answers for any other HTTP error (apiflask's werkzeug handler).
            headers = dict(error.get_headers())
            headers.pop("Content-Type", None)
            response: Response = app.make_response(
                app.error_callback(HTTPError(error.code, message=error.name, headers=headers))
            )
            return response
        return app.make_response(error)

    app.register_error_handler(NotFound, missing)
    app.register_error_handler(MethodNotAllowed, missing)


def wants_html() -> bool:
    """Whether the request is a browser's for a page (not a call to the API)."""
    if request.path.startswith("/api/") or request.path == "/api":
        return False
    accept = request.accept_mimetypes
    return accept.quality("text/html") > accept.quality("application/json")
