"""Liveness of the service and its database."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response, current_app, json

from api.problems import problem
from storage import is_available

bp = APIBlueprint("health", __name__, url_prefix="/api/v1/healthcheck", tag="Health")


@bp.get("/ping")
@bp.doc(
    summary="Check the service and its database",
    responses={200: "The service and MongoDB answer.", 503: "MongoDB does not answer."},
)
def ping() -> Response:
    """200 when MongoDB answers, 503 otherwise."""
    if not is_available(current_app.extensions["settings"]):
        return problem(
            503, "MongoDB is not answering.", slug="store-unavailable", title="Service unavailable"
        )
    return Response(json.dumps({"status": "healthy"}), mimetype="application/json")
