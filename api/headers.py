"""Headers for browsers: what they may cache, sniff and load, and which origins may call.

- `X-Content-Type-Options: nosniff` on every response.
- `Cache-Control: no-store` on every /api/v1 response (cases, their documents, lists, errors),
  except what is the same for every caller and changes only with a release: the OpenAPI
  document (public) and the process definitions (private: they need a token), for 5 minutes.
  The documentation's assets are served under their version, so they are cached for a year.
- The documentation page may load scripts, styles and images from this service only.
- CORS for the origins in CORS_ORIGINS (none by default), through flask-cors: a front end on
  another origin may send a token, JSON, If-Match and a correlation id, and read ETag,
  Location and the correlation id. Preflights need no token (auth lets OPTIONS through).
"""

from __future__ import annotations

import base64
import hashlib
import re

from apiflask import APIFlask
from flask import Response, request
from flask_cors import CORS

from settings import Settings

CACHEABLE = {
    "openapi.spec": "public, max-age=300",
    "definitions.index": "private, max-age=300",
    "definitions.get": "private, max-age=300",
    "static": "public, max-age=31536000, immutable",
}
"""Endpoints whose successful responses may be cached, and for how long."""
INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
"""A script or style written in the page itself (one without a `src`)."""


def register(app: APIFlask, settings: Settings) -> None:
    """Add the headers to every response of `app`, and CORS for `settings.cors_origins`."""
    app.after_request(_protect)
    if settings.cors_origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": list(settings.cors_origins)}},
            allow_headers=["Authorization", "Content-Type", "If-Match", "x-correlation-id"],
            expose_headers=["ETag", "Location", "x-correlation-id"],
            methods=["GET", "POST", "PATCH", "DELETE"],
            max_age=600,  # seconds a browser may reuse a preflight's answer
        )


def _protect(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    cacheable = CACHEABLE.get(request.endpoint or "")
    if cacheable and response.status_code == 200:
        response.headers["Cache-Control"] = cacheable
    elif request.path.startswith("/api/v1/"):
        response.headers["Cache-Control"] = "no-store"
    if request.endpoint == "openapi.docs" and response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = _docs_policy(response.get_data(as_text=True))
    return response


def _docs_policy(page: str) -> str:
    """Nothing from elsewhere; of the page's own scripts and styles, only those it was sent
    with (by their hashes), so that one injected into it would not run."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in INLINE.findall(page):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    return "; ".join(
        [
            "default-src 'none'",
            " ".join(["script-src 'self'", *hashes["script"]]),
            " ".join(["style-src 'self'", *hashes["style"]]),
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
