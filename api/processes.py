"""HTTP endpoints for processes: parse, call one use case, shape the response."""

from __future__ import annotations

from typing import Any

import orjson
from apiflask import APIBlueprint
from flask import Response, url_for
from flask.blueprints import BlueprintSetupState
from marshmallow import RAISE
from werkzeug.routing import BaseConverter

from api import openapi, telemetry
from api.deps import context, dispatcher, if_match, page_tokens, repository
from api.representation import etag, process_json
from api.schemas import (
    ListQuery,
    NewProcess,
    NewProcessNamed,
    NewProcessV2,
    ProcessChange,
    TriggerData,
    path_id,
)
from machines.errors import ProcessNotFound
from machines.model import Process
from machines.queries import ProcessQuery
from services import automation, processes
from services.errors import FieldError, InvalidInput

bp = APIBlueprint("processes", __name__, url_prefix="/api", tag="Processes")
"""Versions are in the rules: v1, and v2's create, the one v2 route of the existing API."""


class TriggerConverter(BaseConverter):
    """A trigger named in the URL: any segment but a process's sub-resources, so that a PATCH
    of `.../documents` or `.../diagram` is a 405 (and OPTIONS does not offer PATCH there)
    rather than an attempt to fire a trigger of that name."""

    regex = r"(?!(?:documents|diagram)$)[^/]+"


@bp.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    """Before the routes below are added to the app, which is when they need it."""
    state.app.url_map.converters.setdefault("trigger", TriggerConverter)


PROCESS_RESPONSE = openapi.process_response
ERRORS = openapi.problem_responses


@bp.post("/v1/process")
@bp.input(NewProcessNamed, arg_name="body")
@bp.doc(
    summary="Start a process",
    responses={201: PROCESS_RESPONSE("The process, in its first state."), **ERRORS(400, 404, 422)},
)
def create(body: dict[str, Any]) -> Response:
    """Start a process of the type named by `processName` in the body (required there)."""
    return _start(body["processName"], body)


@bp.post("/v1/process/<process_name>", strict_slashes=False)  # a trailing slash too
@bp.input(NewProcess, arg_name="body")
@bp.doc(
    summary="Start a process of the type in the URL",
    responses={201: PROCESS_RESPONSE("The process, in its first state."), **ERRORS(400, 404, 422)},
)
def create_named(process_name: str, body: dict[str, Any]) -> Response:
    """Start a process of the type named in the URL."""
    if body.get("processName") not in (None, process_name):
        raise InvalidInput(
            "processName in the body differs from the one in the URL.",
            [FieldError("processName", f"Must be {process_name!r} or left out.")],
            unprocessable=False,
        )
    return _start(process_name, body)


@bp.post("/v2/process/<process_name>", strict_slashes=False)  # a trailing slash too
@bp.input(NewProcessV2, arg_name="body")
@bp.doc(
    summary="Start a process from the existing API's v2 body",
    description="The body of the existing Processes API's v2 create, as the Manage My Home "
    "front end sends it: `patchAssignment` (required) becomes the case's assignment, and "
    "`relatedEntities` must include a tenure, a person and an asset, and the target itself "
    "(an entry whose `id` and `targetType` are the `targetId` and `targetType`).",
    responses={201: PROCESS_RESPONSE("The process, in its first state."), **ERRORS(400, 404, 422)},
)
def create_v2(process_name: str, body: dict[str, Any]) -> Response:
    """Start a process of the type named in the URL from a v2 body."""
    return _start(process_name, body)


@bp.get("/v1/process")
@bp.input(ListQuery, location="query", arg_name="query", unknown=RAISE)
@bp.doc(
    summary="List processes: by target, or a worktray by patch, officer, state or deadline",
    description="Filters combine. Results are those the caller may see (their patches and "
    "unassigned cases), a page at a time; pass `nextToken` back as `paginationToken`.",
    responses={200: openapi.page_response(), **ERRORS(400, 404)},
)
def list_processes(query: dict[str, Any]) -> Response:
    """A page of processes matching the filters, in the requested order."""
    if query.get("processName"):
        processes.definition_named(query["processName"])
    wanted = ProcessQuery(
        target_id=query.get("targetId"),
        process_name=query.get("processName"),
        state=query.get("state"),
        patch=query.get("patch"),
        officer_id=query.get("assignee"),
        overdue=query.get("overdue"),
        sort=query["sort"],
        automation_status=query.get("automationStatus"),
    )
    page = processes.search(
        repository(),
        wanted,
        query["pageSize"],
        query.get("paginationToken"),
        page_tokens(),
        context(),
    )
    body = {
        "results": [process_json(p) for p in page.processes],
        "paginationDetails": {"nextToken": page.next_token},
    }
    return _json(body, 200)


@bp.get("/v1/process/<process_name>/<process_id>", strict_slashes=False)  # a trailing slash too
@bp.doc(
    summary="Get a process", responses={200: PROCESS_RESPONSE("The process."), **ERRORS(400, 404)}
)
def get(process_name: str, process_id: str) -> Response:
    """The process with this id; 404 if it is not a process of this type."""
    process = processes.get(repository(), process_name, path_id(process_id), context())
    return _json(process_json(process), 200, ETag=etag(process))


@bp.patch("/v1/process/<process_name>/<process_id>", strict_slashes=False)  # a trailing slash too
@bp.input(ProcessChange, arg_name="body")
@bp.doc(
    summary="Progress a process, or edit its current state",
    description=(
        "With `trigger`, fires it with `formData` and `documents`. Without, edits the current "
        "state's `processData` and/or `assignment`. Send `If-Match` with the ETag last seen to "
        "refuse the change if someone else changed the process first (412)."
    ),
    responses={200: PROCESS_RESPONSE("The updated process."), **ERRORS(400, 404, 409, 412, 422)},
)
def change(process_name: str, process_id: str, body: dict[str, Any]) -> Response:
    """Fire a trigger or edit the current state."""
    process_id = path_id(process_id)
    trigger = body.get("trigger")
    if trigger:
        return _fire(
            process_name,
            process_id,
            trigger,
            body.get("formData") or {},
            body.get("documents") or [],
            body.get("assignment"),
        )
    if "formData" in body or "documents" in body:
        raise InvalidInput(
            "formData and documents go with a trigger; to edit the current state, send "
            "processData.",
            [FieldError("trigger", "Required when formData or documents are sent.")],
            unprocessable=False,
        )
    data = body.get("processData") or {}
    process = processes.update(
        repository(),
        process_name,
        process_id,
        context(),
        dispatcher(),
        form_data=data.get("formData"),
        documents=data.get("documents"),
        assignment=body.get("assignment"),
        expected_version=if_match(),
    )
    return _changed(process, 200, None)


@bp.patch("/v1/process/<process_name>/<process_id>/<trigger:trigger>")
@bp.input(TriggerData, arg_name="body")
@bp.doc(
    summary="Fire a trigger named in the URL",
    responses={200: PROCESS_RESPONSE("The updated process."), **ERRORS(400, 404, 409, 412, 422)},
)
def fire(process_name: str, process_id: str, trigger: str, body: dict[str, Any]) -> Response:
    """Fire `trigger` with `formData` and `documents`."""
    return _fire(
        process_name,
        path_id(process_id),
        trigger,
        body["formData"],
        body["documents"],
        body.get("assignment"),
    )


@bp.post("/v1/process/<process_name>/<process_id>/automation/retry")
@bp.doc(
    summary="Queue a failed automated step again",
    description="For a process waiting in a state with an automated step, typically after "
    "`currentState.automation.status` became `failed`.",
    responses={
        202: PROCESS_RESPONSE("The process, with its step queued again."),
        **ERRORS(400, 404, 409, 412),
    },
)
def retry_automation(process_name: str, process_id: str) -> Response:
    """Queue the current state's automated step again."""
    process = automation.retry(
        repository(),
        process_name,
        path_id(process_id),
        context(),
        dispatcher(),
        expected_version=if_match(),
    )
    return _changed(process, 202, None)


def _start(process_name: str, body: dict[str, Any]) -> Response:
    assignment = body.get("assignment") or {}
    legacy = body.get("patchAssignment")  # the existing API's v2 form of an assignment
    if legacy and not assignment:
        assignment = {
            "patch": legacy["patchName"],
            "patchId": legacy["patchId"],
            "patchName": legacy["patchName"],
            "officerId": legacy["responsibleEntityId"],
            "officerName": legacy["responsibleName"],
        }
    new = processes.NewProcess(
        process_name=process_name,
        target_id=body["targetId"],
        target_type=body.get("targetType"),
        related_entities=body["relatedEntities"],
        form_data=body["formData"],
        documents=body["documents"],
        assignment=assignment,
    )
    process = processes.start(repository(), new, context(), dispatcher())
    location = url_for("processes.get", process_name=process.process_name, process_id=process.id)
    return _changed(process, 201, None, Location=location)


def _fire(
    process_name: str,
    process_id: str,
    trigger: str,
    form_data: dict[str, Any],
    documents: list[str],
    assignment: dict[str, Any] | None = None,
) -> Response:
    process = processes.fire(
        repository(),
        process_name,
        process_id,
        trigger,
        form_data,
        documents,
        context(),
        dispatcher(),
        assignment=assignment,
        expected_version=if_match(),
    )
    return _changed(process, 200, trigger)


def _changed(process: Process, status: int, trigger: str | None, **headers: str) -> Response:
    """The answer to a start or change: the process and its ETag (and, for the access line
    and the metrics, what the request did)."""
    telemetry.note_change(process, trigger)
    return _json(process_json(process), status, ETag=etag(process), **headers)


def _json(body: Any, status: int, **headers: str) -> Response:
    # orjson: a process's whole history is in every answer, and encoding it with the
    # standard library took as long as building it.
    response = Response(orjson.dumps(body), status=status, mimetype="application/json")
    for name, value in headers.items():
        response.headers[name] = value
    return response


__all__ = ["ProcessNotFound", "bp"]
