"""Headers for browsers: what they may cache and sniff.

- `X-Content-Type-Options: nosniff` on every response.
- `Cache-Control: no-store` on every /api/v1 response (cases, their documents, lists, errors),
  except what is the same for every caller and changes only with a release: the OpenAPI
  document (public) and the process definitions (private: they need a token), for 5 minutes.
"""

from __future__ import annotations

from apiflask import APIFlask
from flask import Response, request

CACHEABLE = {
    "openapi.spec": "public, max-age=300",
    "definitions.index": "private, max-age=300",
    "definitions.get": "private, max-age=300",
}
"""Endpoints whose successful responses may be cached, and for how long."""


def register(app: APIFlask) -> None:
    """Add the headers to every response of `app`."""
    app.after_request(_protect)


def _protect(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    cacheable = CACHEABLE.get(request.endpoint or "")
    if cacheable and response.status_code == 200:
        response.headers["Cache-Control"] = cacheable
    elif request.path.startswith("/api/v1/"):
        response.headers["Cache-Control"] = "no-store"
    return response
