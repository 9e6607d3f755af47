"""Reading the case a page is about, with the officer's context."""

from __future__ import annotations

import uuid

from flask import abort

from api.deps import context, repository
from machines.definition import ProcessDefinition
from machines.model import Process
from services import processes


def uuid_or_404(value: str) -> str:
    """An id from the URL, which must be a UUID (else there is no such page)."""
    try:
        uuid.UUID(value)
    except ValueError:
        abort(404)
    return value


def case(process_name: str, process_id: str) -> tuple[ProcessDefinition, Process]:
    """The case and its definition; 404 for an id that is not a UUID or no such case, 403
    for a case on another officer's patch."""
    uuid_or_404(process_id)
    process = processes.get(repository(), process_name, process_id, context())
    return processes.definition_named(process_name), process


def version(value: str | None) -> int:
    """The case version a form was drawn from (sent back as its If-Match)."""
    if value is None or not value.isdigit() or len(value) > 18:
        abort(400, "The form was missing the case's version. Go back and reload the page.")
    return int(value)
