"""HTTP endpoints for process definitions: what each process is, as JSON or as a diagram."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import String
from apiflask.validators import OneOf
from flask import Response, json
from marshmallow import RAISE

import machines
from api import openapi
from api.deps import context, repository
from api.problems import problem
from api.schemas import path_id
from machines import describe
from services import definitions, processes

bp = APIBlueprint("definitions", __name__, url_prefix="/api/v1", tag="Process definitions")

DIAGRAM_FORMATS = ["json", "mermaid", "svg", "dot"]
ERRORS = openapi.problem_responses


class ListQuery(Schema):
    class Meta:
        unknown = RAISE

    format = String(load_default="json", validate=OneOf(["json"]))


class FormatQuery(Schema):
    class Meta:
        unknown = RAISE

    format = String(load_default="json", validate=OneOf(DIAGRAM_FORMATS))


SUMMARIES = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "enum": sorted(machines.registry())},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "targetType": {"type": "string"},
                    "version": {"type": "integer"},
                    "states": {"type": "integer", "description": "How many states it has."},
                    "clientTriggers": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["name", "title", "version", "clientTriggers"],
            },
        }
    },
    "required": ["results"],
}
"""The body of GET /process-definitions."""


def _diagram_responses(description: str) -> dict[int, Any]:
    return {
        200: {
            "description": f"{description} As JSON, or with `format=mermaid` a Mermaid "
            "`stateDiagram-v2`, `format=dot` Graphviz source, `format=svg` an SVG image.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
                "text/vnd.graphviz": {"schema": {"type": "string"}},
                "image/svg+xml": {"schema": {"type": "string"}},
            },
        },
        **ERRORS(400, 404),
        501: {
            "description": "Graphviz is not installed, so SVG cannot be drawn.",
            "content": {openapi.PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        },
    }


@bp.get("/process-definitions")
@bp.input(ListQuery, location="query", arg_name="query", unknown=RAISE)
@bp.doc(
    summary="List the process definitions",
    responses={
        200: {
            "description": "Every process type, with its version and client triggers.",
            "content": {"application/json": {"schema": SUMMARIES}},
        },
        **ERRORS(400),
    },
)
def index(query: dict[str, Any]) -> Response:
    """Every process type this service runs."""
    body = {"results": [describe.summary(d) for d in machines.registry().values()]}
    return _json(body)


@bp.get("/process-definitions/<process_name>")
@bp.input(FormatQuery, location="query", arg_name="query", unknown=RAISE)
@bp.doc(
    summary="Describe or draw a process definition",
    responses=_diagram_responses("The definition: states, triggers, forms, steps, limits."),
)
def get(process_name: str, query: dict[str, Any]) -> Response:
    """States, triggers (with their forms and examples), automated steps and time limits."""
    definition = processes.definition_named(process_name)
    if query["format"] == "json":
        return _json(describe.describe(definition))
    return _drawn(definitions.diagram(definition, query["format"]))


@bp.get("/process/<process_name>/<process_id>/diagram")
@bp.input(FormatQuery, location="query", arg_name="query", unknown=RAISE)
@bp.doc(
    summary="Draw a process where it is now",
    responses=_diagram_responses(
        "The process's definition with its current state and the states it passed through marked."
    ),
)
def diagram(process_name: str, process_id: str, query: dict[str, Any]) -> Response:
    """The definition drawn with this process's current state and path highlighted."""
    process = processes.get(repository(), process_name, path_id(process_id), context())
    if query["format"] == "json":
        return _json(
            {
                "id": process.id,
                "processName": process.process_name,
                "definitionVersion": process.definition_version,
                "currentState": process.state,
                "path": [entry.state for entry in process.states],
                "definition": describe.describe(processes.definition_named(process_name)),
            }
        )
    return _drawn(definitions.process_diagram(process, query["format"]))


@bp.errorhandler(definitions.GraphvizMissing)
def graphviz_missing(error: definitions.GraphvizMissing) -> Response:
    return problem(
        501, str(error), slug="graphviz-not-installed", title="Graphviz is not installed"
    )


@bp.errorhandler(definitions.DrawingFailed)
def drawing_failed(error: definitions.DrawingFailed) -> Response:
    return problem(500, str(error), slug="diagram-failed", title="The diagram could not be drawn")


def _drawn(drawn: definitions.Diagram) -> Response:
    return Response(drawn.content, status=200, content_type=drawn.media_type)


def _json(body: Any) -> Response:
    return Response(json.dumps(body), status=200, mimetype="application/json")
