"""Liveness of the service and its database."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, json

from api import openapi
from api.problems import problem
from storage import is_available

bp = APIBlueprint("health", __name__, url_prefix="/api/v1/healthcheck", tag="Health")

HEALTHY: Any = {
    "description": "The service and MongoDB answer.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"status": {"type": "string", "enum": ["healthy"]}},
                "required": ["status"],
            }
        }
    },
}


@bp.get("/ping")
@bp.doc(
    summary="Check the service and its database",
    responses={
        200: HEALTHY,
        503: {**openapi.problem_responses(503)[503], "description": "MongoDB does not answer."},
    },
)
def ping() -> Response:
    """200 when MongoDB answers, 503 otherwise."""
    if not is_available(current_app.extensions["settings"]):
        return problem(
            503, "MongoDB is not answering.", slug="store-unavailable", title="Service unavailable"
        )
    return Response(json.dumps({"status": "healthy"}), mimetype="application/json")
