"""The parts of the OpenAPI document apiflask cannot infer: response bodies, problem details,
and each process's trigger form schemas, taken from the definitions themselves."""

from __future__ import annotations

from typing import Any

import machines
from api import problems

PROBLEM = "application/problem+json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def process_response(description: str) -> Any:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Process")}},
        "headers": {
            "ETag": {"description": "The version, for If-Match.", "schema": {"type": "string"}}
        },
    }


def page_response() -> Any:
    return {
        "description": "A page of processes.",
        "content": {"application/json": {"schema": _ref("ProcessPage")}},
    }


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


def problem_responses(*statuses: int) -> Any:
    return {
        status: {
            "description": "Problem details.",
            "content": {PROBLEM: {"schema": _ref("Problem")}},
        }
        for status in statuses
    }


def components() -> dict[str, Any]:
    """Schemas for the process representation and every trigger's formData."""
    state = {
        "type": "object",
        "properties": {
            "state": {"type": "string"},
            "permittedTriggers": {"type": "array", "items": {"type": "string"}},
            "assignment": {
                "type": "object",
                "properties": {"patch": {"type": ["string", "null"]}},
                "additionalProperties": True,
            },
            "processData": {
                "type": "object",
                "properties": {
                    "targetId": {"type": "string"},
                    "formData": {"type": "object"},
                    "documents": {"type": "array", "items": {"type": "string"}},
                },
            },
            "trigger": {"type": ["string", "null"]},
            "actedBy": {"type": ["object", "null"]},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
            "dueAt": {"type": ["string", "null"], "format": "date-time"},
            "overdue": {"type": "boolean"},
            "reminderAt": {"type": ["string", "null"], "format": "date-time"},
            "automation": {
                "type": ["object", "null"],
                "description": "The state's automated step: `step`, `status` (queued or "
                "failed), `reason` of the last failure, timestamps.",
            },
        },
        "required": [
            "state",
            "permittedTriggers",
            "assignment",
            "processData",
            "createdAt",
            "updatedAt",
        ],
    }
    body = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "processName": {"type": "string", "enum": sorted(machines.registry())},
            "targetId": {"type": "string"},
            "targetType": {"type": "string", "enum": ["tenure", "person", "asset"]},
            "relatedEntities": {"type": "array", "items": {"type": "object"}},
            "currentState": _ref("ProcessState"),
            "processStates": {"type": "array", "items": _ref("ProcessState")},
            "version": {"type": "integer"},
            "definitionVersion": {"type": "integer"},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
            "createdBy": {"type": ["object", "null"]},
            "activity": {
                "type": "array",
                "description": "Changes without a transition (edits, reassignments, documents, "
                "automation failures), oldest first.",
                "items": {"type": "object"},
            },
        },
        "required": [
            "id",
            "processName",
            "targetId",
            "targetType",
            "currentState",
            "processStates",
            "version",
        ],
    }
    schemas: dict[str, Any] = {
        "Problem": problems.SCHEMA,
        "ProcessState": state,
        "ProcessBody": body,
        "Process": {
            "type": "object",
            "description": "The process keyed by its processName, as in the brief.",
            "additionalProperties": _ref("ProcessBody"),
            "minProperties": 1,
            "maxProperties": 1,
        },
        "ProcessPage": {
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": _ref("Process")},
                "paginationDetails": {
                    "type": "object",
                    "properties": {"nextToken": {"type": ["string", "null"]}},
                },
            },
            "required": ["results", "paginationDetails"],
        },
    }
    for definition in machines.registry().values():
        for trigger in definition.client_triggers.values():
            name = f"{definition.name}.{trigger.name}.formData"
            schemas[name] = {**dict(trigger.form or {}), "example": dict(trigger.example or {})}
    return schemas


def finish(spec: dict[str, Any] | str) -> dict[str, Any] | str:
    """Add the components, and say which formData schema applies to which trigger."""
    if isinstance(spec, str):  # apiflask passes a string only for YAML output, unused here
        return spec
    spec.setdefault("components", {}).setdefault("schemas", {}).update(components())
    triggers = {
        definition.name: {
            name: _ref(f"{definition.name}.{name}.formData") for name in definition.client_triggers
        }
        for definition in machines.registry().values()
    }
    spec["info"]["x-trigger-form-schemas"] = triggers
    spec["security"] = [{"BearerAuth": []}]
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            if path.startswith("/api/v1/healthcheck"):
                operation["security"] = []
            elif isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("401", _problem("Missing or invalid token."))
                operation["responses"].setdefault("403", _problem("Not allowed for your groups."))
    spec["info"]["description"] = (
        "Start, read and progress casework processes. Each trigger's `formData` is checked "
        "against the schema named `{processName}.{trigger}.formData` in the components; "
        "`GET /api/v1/process/{processName}/{id}` lists the triggers permitted now."
    )
    # apiflask documents its own error responses as application/json; ours are problem+json.
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status)[0] in "45" and "application/json" in content:
                    content[PROBLEM] = {"schema": _ref("Problem")}
                    del content["application/json"]
    return spec
