"""The baseline of the HTTP scenarios: bare Flask endpoints doing the product's store I/O.

Served by gunicorn exactly as the API is (gunicorn.conf.py). Each transition is one
`find_one` and one version-conditioned `update_one`, as the product's fire path needs at
least; nothing else (no authentication, validation, state machine or events). Not product
code: it lives here only to be measured beside the API.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from celery import Celery
from flask import Flask, Response, request
from pymongo import MongoClient
from pymongo.collection import Collection

STEP_TASK = "bench.baseline_step"


@cache
def _collection(pid: int) -> Collection:
    """The processes collection through one client per OS process (made after fork)."""
    client: MongoClient = MongoClient(
        os.environ["MONGO_URI"],
        tz_aware=True,
        serverSelectionTimeoutMS=2000,
        connectTimeoutMS=2000,
        socketTimeoutMS=10000,
        appname="bench-baseline",
    )
    return client[os.environ["BASELINE_DB"]]["processes"]


def processes() -> Collection:
    return _collection(os.getpid())


@cache
def _celery() -> Celery:
    app = Celery("bench-baseline")
    app.conf.update(broker_url=os.environ["BASELINE_BROKER_URL"], task_ignore_result=True)
    return app


def now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def state_entry(state: str, trigger: str | None, form: dict[str, Any]) -> dict[str, Any]:
    """A state entry of the same shape and size as the product stores."""
    moment = now()
    return {
        "state": state,
        "permittedTriggers": [],
        "assignment": {"patch": "E1"},
        "processData": {"formData": form, "documents": []},
        "trigger": trigger,
        "actedBy": {"id": "bench", "name": "Bench", "email": "bench@example.org"},
        "createdAt": moment,
        "updatedAt": moment,
        "dueAt": None,
        "reminderAt": None,
        "reminded": False,
        "automation": None,
        "overdue": False,
    }


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/ping")
    def ping() -> Response:
        return _json({"ok": True})

    @app.post("/process")
    def start() -> Response:
        body = request.get_json()
        moment = now()
        document = {
            "_id": str(uuid.uuid4()),
            "processName": body.get("processName", "bench"),
            "targetId": body.get("targetId"),
            "targetType": "person",
            "relatedEntities": body.get("relatedEntities", []),
            "definitionVersion": 1,
            "version": 0,
            "createdAt": moment,
            "updatedAt": moment,
            "createdBy": None,
            "currentState": state_entry("Started", "StartApplication", {}),
            "previousStates": [],
            "activity": [],
        }
        processes().insert_one(document)
        return _json({"id": document["_id"], "version": 0}, 201)

    @app.patch("/process/<process_id>")
    def fire(process_id: str) -> Response:
        """One read, one version-conditioned write: the least a transition needs."""
        body = request.get_json()
        document = processes().find_one({"_id": process_id}, {"outbox": 0})
        if document is None:
            return _json({"title": "not found"}, 404)
        entry = state_entry(body["trigger"], body["trigger"], body.get("formData") or {})
        result = processes().update_one(
            {"_id": process_id, "version": document["version"]},
            {
                "$set": {"currentState": entry, "updatedAt": entry["createdAt"]},
                "$push": {"previousStates": document["currentState"]},
                "$inc": {"version": 1},
            },
        )
        if result.matched_count == 0:
            return _json({"title": "conflict"}, 409)
        return _json(
            {"id": process_id, "state": entry["state"], "version": document["version"] + 1}
        )

    @app.post("/process/<process_id>/automate")
    def automate(process_id: str) -> Response:
        """Enter a state with an automated step: read, conditioned write, queue the task."""
        document = processes().find_one({"_id": process_id}, {"outbox": 0})
        if document is None:
            return _json({"title": "not found"}, 404)
        entry = state_entry("CheckInProgress", "ScheduleVisit", request.get_json() or {})
        version = document["version"]
        result = processes().update_one(
            {"_id": process_id, "version": version},
            {
                "$set": {"currentState": entry, "updatedAt": entry["createdAt"]},
                "$push": {"previousStates": document["currentState"]},
                "$inc": {"version": 1},
            },
        )
        if result.matched_count == 0:
            return _json({"title": "conflict"}, 409)
        _celery().send_task(STEP_TASK, args=[process_id, version + 1])
        return _json({"id": process_id, "version": version + 1})

    return app
