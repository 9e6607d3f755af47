"""Liveness of the service and its database (ping), and readiness of the whole (ready)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, json

from api import openapi, readiness
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


READY: Any = {
    "description": "Every part answers: MongoDB, Redis, a worker, beat, and the outboxes are "
    "swept. Each check with its status and duration (ms).",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["ready"]},
                    "checks": {"type": "object"},
                },
                "required": ["status", "checks"],
            }
        }
    },
}


@bp.get("/ready")
@bp.doc(
    summary="Check that the whole service is ready",
    description="MongoDB and Redis answer, a worker answers a ping, beat sent a periodic task "
    "lately, and no follow-up has waited too long in an outbox. For monitoring and deploys: "
    "a stopped worker makes every API instance unready.",
    responses={
        200: READY,
        503: {
            **openapi.problem_responses(503)[503],
            "description": "Something is not ready: `detail` names it, `checks` has each part.",
        },
    },
)
def ready() -> Response:
    """200 when every part is ready, 503 naming those that are not."""
    checks = readiness.run_checks(current_app.extensions["settings"])
    parts = {check.name: check.json() for check in checks}
    failing = [check for check in checks if check.status == "failing"]
    if failing:
        response = problem(
            503,
            "Not ready: " + "; ".join(f"{check.name}: {check.detail}" for check in failing),
            slug="not-ready",
            title="Service unavailable",
        )
        body = json.loads(response.get_data())
        response.set_data(
            json.dumps({**body, "failing": [c.name for c in failing], "checks": parts})
        )
        return response
    return Response(json.dumps({"status": "ready", "checks": parts}), mimetype="application/json")
