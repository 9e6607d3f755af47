"""The one door JSON request bodies come in by, checked before any route reads them.

Every POST, PUT and PATCH with a body, except the routes that document another media type
(the multipart upload), must send `application/json` or a `+json` type (415 otherwise), at
most `MAX_CONTENT_LENGTH` bytes however it is framed (413), nested at most `MAX_DEPTH`
levels (measured before parsing, so that a deep body never reaches the recursive parser),
and without lone UTF-16 surrogates in any key or string (MongoDB cannot store them). Each
refusal is a problem naming the limit or the field, and comes before anything is read from
or written to the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from apiflask import APIFlask
from flask import Response, current_app, request
from webargs.core import is_json
from werkzeug.exceptions import RequestEntityTooLarge

from api.problems import problem
from services.errors import FieldError, InvalidInput

MAX_DEPTH = 32
"""Levels of arrays and objects a body may nest. formData itself may nest
`services.forms.MAX_DEPTH` levels; this bounds the whole body, a few levels above that."""
MAX_REPORTED = 10
"""Fields named in one refusal; a body can hold thousands of bad strings."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
"""A JSON string, or an unterminated one up to the end: always a match, so the scan stays
linear on any input. UTF-8 continuation bytes are never `"` or `\\`, so bytes are safe."""
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE = re.compile("[\ud800-\udfff]")
"""After json.loads, a surrogate left in a str is a lone one: pairs decode to one character."""


class UnsupportedBodyType(Exception):
    """A body was sent with a media type other than JSON."""

    def __init__(self, media_type: str | None) -> None:
        sent = f"as {media_type}" if media_type else "without a Content-Type"
        super().__init__(
            f"Send the request body as application/json (or a +json type); it was sent {sent}."
        )


class BodyTooLarge(Exception):
    """A body was larger than the route accepts, however it was framed."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than the {limit} bytes ({limit / 2**20:g} MB) "
            "accepted here."
        )
        self.limit = limit


def install(app: APIFlask) -> None:
    """Check every JSON body before its route runs (after authentication), and answer the
    refusals as problems."""
    app.before_request(check_body)

    @app.errorhandler(UnsupportedBodyType)
    def unsupported(error: UnsupportedBodyType) -> Response:
        return problem(415, str(error), slug="unsupported-media-type", title="Unsupported type")

    @app.errorhandler(BodyTooLarge)
    def too_large(error: BodyTooLarge) -> Response:
        return problem(413, str(error), slug="body-too-large", title="Content too large")


def check_body() -> None:
    """Refuse a body this route cannot take as JSON; let every other request through."""
    if request.method not in BODY_METHODS or request.url_rule is None:
        return  # no body expected, or a 404/405 the router answers
    if not request.path.startswith("/api/"):
        return  # the officer pages take HTML forms, checked by their own views
    if _declared_media_type() not in (None, "application/json"):
        return  # the upload's multipart body is its route's to check
    raw = _read()
    if not raw:
        return
    if not is_json(request.mimetype):
        raise UnsupportedBodyType(request.mimetype or None)
    parse(raw)


def parse(raw: bytes) -> Any:
    """The JSON value of `raw`, or `InvalidInput` saying why it cannot be taken."""
    depth = nesting_depth(raw)
    if depth > MAX_DEPTH:
        raise InvalidInput(
            f"The request body nests arrays and objects {depth} levels deep; "
            f"at most {MAX_DEPTH} are accepted.",
            [],
            unprocessable=False,
        )
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"The request body is not valid JSON: it is not UTF-8 (byte {error.start}).",
            [],
            unprocessable=False,
        ) from None
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"The request body is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}.",
            [],
            unprocessable=False,
        ) from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise InvalidInput(
            "The request body is not valid JSON here: a number in it has too many digits.",
            [],
            unprocessable=False,
        ) from None
    bad = list(lone_surrogates(value))
    if bad:
        shown = [FieldError(path, "Holds a lone UTF-16 surrogate.") for path in bad]
        more = f" (and {len(bad) - MAX_REPORTED} more)" if len(bad) > MAX_REPORTED else ""
        raise InvalidInput(
            "Text in the request body holds lone UTF-16 surrogates (such as \\udfff), which "
            f"are not characters: {', '.join(bad[:MAX_REPORTED])}{more}.",
            shown[:MAX_REPORTED],
            unprocessable=False,
        )
    return value


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in a JSON text, strings aside; linear, without
    parsing, and meaningful for invalid text too (the depth a parser would reach)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def lone_surrogates(value: Any, path: str = "") -> Iterator[str]:
    """The paths of the keys and strings in `value` that hold a lone surrogate."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{_shown(key)}" if path else _shown(key)
            if _SURROGATE.search(key):
                yield where
            yield from lone_surrogates(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from lone_surrogates(item, f"{path}[{index}]")


def _shown(key: str) -> str:
    """A key as it can be named in a response: its surrogates written as \\uXXXX escapes."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _read() -> bytes:
    """The body, refused with 413 past the limit whether it came with a Content-Length or
    chunked."""
    limit = request.max_content_length
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise BodyTooLarge(limit or 0) from None
    # A chunked body has no length to check up front: Werkzeug stops reading at the limit
    # and returns what it read, which then fails as truncated JSON. One more byte from the
    # server's stream tells a body of exactly the limit from a longer one.
    if limit is not None and request.content_length is None and len(raw) >= limit:
        if request.environ["wsgi.input"].read(1):
            raise BodyTooLarge(limit)
    return raw


def _declared_media_type() -> str | None:
    """The media type the route's documented body has (apiflask keeps it with the view), or
    None for a route that declares no body."""
    view = current_app.view_functions.get(request.endpoint or "")
    spec = getattr(view, "_spec", None) or {}
    return spec.get("content_type")
