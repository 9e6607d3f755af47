"""What the current request or task is about, attached to every log line it writes.

Bound per request (the API) and per task (the workers) in context variables, so that threads
and tasks never see each other's, and read back where a correlation id must travel on: task
headers, calls to the Tenure and Person APIs.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog

CORRELATION_ID = "correlationId"
CORRELATION_HEADER = "x-correlation-id"
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""A client's correlation id is kept when it is this tame: it reaches logs, events and headers."""


def bind(**values: Any) -> None:
    """Attach `values` (None ones are left out) to every log line of the current context."""
    structlog.contextvars.bind_contextvars(
        **{key: value for key, value in values.items() if value is not None}
    )


def clear() -> None:
    """Start a new request or task with nothing bound."""
    structlog.contextvars.clear_contextvars()


def correlation_id() -> str | None:
    """The correlation id of the request or task running now, if one is bound."""
    value = structlog.contextvars.get_contextvars().get(CORRELATION_ID)
    return str(value) if value else None


def accepted_correlation_id(sent: str | None) -> str:
    """The id a client sent, if it is a plain token of at most 128 characters; else a new one."""
    if sent and _ACCEPTABLE_ID.fullmatch(sent):
        return sent
    return str(uuid.uuid4())
