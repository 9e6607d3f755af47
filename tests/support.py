"""Helpers for tests that drive processes over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import machines

BASE = "/api/v1/process"


def new_id() -> str:
    return str(uuid.uuid4())


def target_type_of(process_name: str) -> str:
    """What a process of this type is about, as its definition says (tenure if unknown)."""
    definition = machines.get(process_name)
    return definition.target_type if definition is not None else "tenure"


def start_body(process_name: str, **overrides: Any) -> dict[str, Any]:
    """A valid start request for `process_name`, with a tenant among the related entities,
    its target type and start form taken from the definition."""
    target_type = target_type_of(process_name)
    definition = machines.get(process_name)
    body: dict[str, Any] = {
        "processName": process_name,
        "targetId": new_id(),
        "targetType": target_type,
        "relatedEntities": [
            {"id": new_id(), "targetType": "person", "subType": "tenant", "description": "Pat"},
            {"id": new_id(), "targetType": "asset", "description": "1 Mare Street"},
        ],
        "formData": dict(definition.start_example) if definition is not None else {},
        "documents": [],
        "assignment": {"patch": "patch1"},
    }
    body.update(overrides)
    return body


def v2_body(process_name: str, **overrides: Any) -> dict[str, Any]:
    """The body the Manage My Home front end sends to POST /api/v2/process/{name}: the
    target, the tenant, their tenure and its asset, and the officer's patch."""
    target_type = target_type_of(process_name)
    ids = {kind: new_id() for kind in ("tenure", "person", "asset")}
    body: dict[str, Any] = {
        "targetID": ids[target_type],
        "targetType": target_type,
        "relatedEntities": [
            {"id": ids["tenure"], "targetType": "tenure", "description": "Secure"},
            {
                "id": ids["person"],
                "targetType": "person",
                "subType": "tenant",
                "description": "Pat",
            },
            {"id": ids["asset"], "targetType": "asset", "description": "1 Mare Street"},
        ],
        "patchAssignment": {
            "patchId": new_id(),
            "patchName": "patch1",
            "responsibleEntityId": new_id(),
            "responsibleName": "Jo Bloggs",
        },
    }
    body.update(overrides)
    return body


def start(client: FlaskClient, process_name: str, **overrides: Any) -> dict[str, Any]:
    """Start a process and return its body (the value under its process name)."""
    response = client.post(BASE, json=start_body(process_name, **overrides))
    assert response.status_code == 201, response.get_json()
    return body_of(response)


def body_of(response: TestResponse) -> dict[str, Any]:
    payload = response.get_json()
    assert isinstance(payload, dict), payload
    assert len(payload) == 1, payload
    (body,) = payload.values()
    return body


def fire(
    client: FlaskClient,
    process: dict[str, Any],
    trigger: str,
    form_data: dict[str, Any] | None = None,
    documents: list[str] | None = None,
    **headers: str,
) -> TestResponse:
    """PATCH the process with `trigger` in the body (the brief's form)."""
    return client.patch(
        f"{BASE}/{process['processName']}/{process['id']}",
        json={"trigger": trigger, "formData": form_data or {}, "documents": documents or []},
        headers=headers,
    )


def state_of(response: TestResponse) -> str:
    assert response.status_code == 200, response.get_json()
    return str(body_of(response)["currentState"]["state"])
