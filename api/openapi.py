"""The parts of the OpenAPI document apiflask cannot infer: response bodies, problem details,
and each process's trigger form schemas, taken from the definitions themselves."""

from __future__ import annotations

from typing import Any

from flask import current_app

import machines
from api import bodies, problems
from api.schemas import UUID, V2_RELATED_TARGET_TYPES
from services import forms

PROBLEM = "application/problem+json"


def _sentences(*parts: str | None) -> str:
    """`parts` as one description, each ended as a sentence ("Close the case. Closing...")."""
    ended = [part if part.endswith((".", "?", "!", ":")) else f"{part}." for part in parts if part]
    return " ".join(ended)


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
        **form_data_schemas(),
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


FORM_KEY = "^([^$.\\u0000][^.\\u0000]*)?$"
"""A formData key: not starting with `$`, without `.` or NUL (MongoDB reads those as operators
or paths)."""


def form_data_schemas() -> dict[str, Any]:
    """What any formData may hold: the limits `services.forms.check_storable` enforces before
    a trigger's own schema is applied. The depth limit is stated in words only: a schema
    unrolled level by level is large, and slow for generators to explore."""
    description = (
        f"Form fields. Keys may not start with `$` or contain `.`; at most {forms.MAX_KEYS} keys "
        f"per object, {forms.MAX_ITEMS} items per array and {forms.MAX_DEPTH} levels of "
        "nesting; numbers fit in 64 bits; no key or text holds markup (a `<` before a letter, "
        "`!`, `/` or `?`, or `&#`)."
    )
    return {
        "FormData": {
            "type": "object",
            "description": description,
            "maxProperties": forms.MAX_KEYS,
            "propertyNames": {
                "allOf": [{"pattern": FORM_KEY}, {"pattern": forms.NO_MARKUP_PATTERN}]
            },
            "additionalProperties": _ref("FormValue"),
        },
        "FormValue": {
            "anyOf": [
                {"type": ["null", "boolean"]},
                {"type": "string", "pattern": forms.NO_MARKUP_PATTERN},
                {"type": "number", "minimum": forms.MIN_NUMBER, "maximum": forms.MAX_NUMBER},
                {"type": "array", "maxItems": forms.MAX_ITEMS, "items": _ref("FormValue")},
                _ref("FormData"),
            ]
        },
    }


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
    _describe_path_parameters(spec)
    _describe_conditional_headers(spec)
    _describe_bodies(spec)
    _describe_trigger_bodies(spec)
    _describe_body_refusals(spec)
    _require_bodies(spec)
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


def _describe_path_parameters(spec: dict[str, Any]) -> None:
    """Say what the path parameters hold: apiflask documents every one as a bare string."""
    names = sorted(machines.registry())
    schemas: dict[str, dict[str, Any]] = {
        "process_name": {"type": "string", "enum": names},
        "process_id": {"type": "string", **UUID},
        "document_id": {"type": "string", **UUID},
        "trigger": _trigger_schema(),
    }
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") in schemas:
                    parameter["schema"] = dict(schemas[parameter["name"]])


def _require_bodies(spec: dict[str, Any]) -> None:
    """Mark a request body required where its schema has required fields: without one the
    request is a 400, so clients (and generated requests) must send it."""
    schemas = spec.get("components", {}).get("schemas", {})
    if "UploadForm" in schemas:
        # Checked by the use case, after authorisation (a caller without access gets 403
        # whatever the body holds), so not by the schema; required all the same.
        schemas["UploadForm"]["required"] = ["file"]
        schemas["UploadForm"]["properties"]["file"]["minLength"] = 1  # an empty file is a 400
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if schemas.get(ref.rsplit("/", 1)[-1], {}).get("required"):
                    operation["requestBody"]["required"] = True


def _trigger_schema() -> dict[str, Any]:
    """A trigger a client may send to some process type (which ones apply to a process now:
    its `currentState.permittedTriggers`)."""
    names = {t for d in machines.registry().values() for t in d.client_triggers}
    return {"type": "string", "enum": sorted(names)}


def _describe_bodies(spec: dict[str, Any]) -> None:
    """The rules of the request bodies that their marshmallow schemas cannot publish."""
    schemas = spec.get("components", {}).get("schemas", {})
    names = sorted(machines.registry())
    for name in ("NewProcess", "NewProcessNamed"):
        if name in schemas:
            schemas[name]["properties"]["processName"]["enum"] = names
    v2 = schemas.get("NewProcessV2")
    if v2:
        # One of each target type; that one is the target itself is said in words.
        v2["properties"]["relatedEntities"]["allOf"] = [
            {"contains": {"properties": {"targetType": {"const": kind}}}}
            for kind in V2_RELATED_TARGET_TYPES
        ]
        v2["properties"]["relatedEntities"]["description"] = (
            f"Must include each of {', '.join(V2_RELATED_TARGET_TYPES)}, and an entry whose id "
            "and targetType are the targetId and targetType."
        )
    for name in (
        "NewProcess",
        "NewProcessNamed",
        "NewProcessV2",
        "ProcessData",
        "ProcessChange",
        "TriggerData",
    ):
        if "formData" in schemas.get(name, {}).get("properties", {}):
            schemas[name]["properties"]["formData"] = _ref("FormData")
    change = schemas.get("ProcessChange")
    if change:
        change["properties"]["trigger"].update(_trigger_schema())
        # A trigger comes with formData and documents; an edit of the current state sends
        # processData (and/or assignment) and no trigger. With a trigger, processData may
        # only repeat formData and documents (the existing front end sends both).
        change["dependentRequired"] = {"formData": ["trigger"], "documents": ["trigger"]}
        change["properties"]["processData"]["description"] = (
            "Without a trigger: the edit of the current state. With one: ignored, and refused "
            "unless its formData and documents repeat those sent."
        )
    if "Assignment" in schemas:
        schemas["Assignment"]["dependentRequired"] = {"value": ["type"]}
    trigger_data = schemas.get("TriggerData")
    if trigger_data:
        trigger_data["properties"]["processData"]["description"] = (
            "Ignored, and refused unless its formData and documents repeat those sent."
        )


def _describe_trigger_bodies(spec: dict[str, Any]) -> None:
    """Make each trigger's form reachable from the PATCH operations that fire it: their body
    is any of one schema per process type and trigger (`{process}.{trigger}.body`, whose
    `formData` is that trigger's form), or, without a trigger, an edit; with an example each."""
    schemas = spec.get("components", {}).get("schemas", {})
    change, trigger_data = schemas.get("ProcessChange"), schemas.get("TriggerData")
    if not change or not trigger_data:
        return
    named: list[dict[str, str]] = []
    in_url: list[dict[str, str]] = []
    examples: dict[str, Any] = {}
    for definition in machines.registry().values():
        for trigger in definition.client_triggers.values():
            key = f"{definition.name}.{trigger.name}"
            form = _ref(f"{key}.formData")
            said = dict(trigger.form or {})
            about = {
                "title": f"{definition.title}: {trigger.name}",
                "description": _sentences(trigger.description, said.get("description"))
                or f"Fire {trigger.name}.",
            }
            schemas[f"{key}.body"] = {
                **about,
                "type": "object",
                "required": ["trigger", "formData"],
                "properties": {
                    **change["properties"],
                    "trigger": {"type": "string", "const": trigger.name},
                    "formData": form,
                },
                "additionalProperties": False,
            }
            schemas[f"{key}.triggerBody"] = {
                **about,
                "type": "object",
                "required": ["formData"],
                "properties": {**trigger_data["properties"], "formData": form},
                "additionalProperties": False,
            }
            named.append(_ref(f"{key}.body"))
            in_url.append(_ref(f"{key}.triggerBody"))
            examples[key] = {
                "summary": about["title"],
                "value": {"formData": dict(trigger.example or {}), "documents": []},
            }
    edit = {
        "title": "An edit of the current state",
        "description": "No trigger: processData (merged into the current state's) and/or "
        "assignment.",
        "type": "object",
        "properties": {name: change["properties"][name] for name in ("processData", "assignment")},
        "additionalProperties": False,
    }
    schemas["ProcessEdit"] = edit
    for path, operations in spec.get("paths", {}).items():
        operation = operations.get("patch")
        if not operation:
            continue
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None:
            continue
        if path.endswith("{trigger}"):
            media["schema"] = {"anyOf": in_url}
            media["examples"] = examples
        else:
            media["schema"] = {"anyOf": [*named, _ref("ProcessEdit")]}
            media["examples"] = {
                key: {**example, "value": {"trigger": key.split(".", 1)[1], **example["value"]}}
                for key, example in examples.items()
            } | {
                "edit": {
                    "summary": "An edit of the current state",
                    "value": {"processData": {"documents": []}, "assignment": {"patch": "E1"}},
                }
            }


def _describe_body_refusals(spec: dict[str, Any]) -> None:
    """Document the refusals `api.bodies` makes of any JSON body: too large (413), not JSON
    (415), nested too deep or holding lone surrogates (400)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    for operations in spec.get("paths", {}).values():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if method not in ("post", "put", "patch") or "multipart/form-data" in content:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("400", _problem("Malformed request."))
            responses.setdefault("413", _problem(f"The body is larger than {limit} bytes."))
            responses.setdefault("415", _problem("The body is not application/json."))
            if content:
                operation["description"] = (
                    operation.get("description", "")
                    + f"\n\nThe body is JSON (`application/json` or a `+json` type), at most "
                    f"{limit} bytes, nested at most {bodies.MAX_DEPTH} levels, "
                    "without lone UTF-16 surrogates."
                ).strip()


def _describe_conditional_headers(spec: dict[str, Any]) -> None:
    """Document If-Match where a stale one gets 412, and If-None-Match where a current one
    gets 304."""
    headers = {
        "412": {
            "name": "If-Match",
            "description": "The ETag last seen: the change is refused (412) if the process has "
            "changed since. `*` or no header: no check.",
        },
        "304": {
            "name": "If-None-Match",
            "description": "The ETag of a copy you hold: 304 without a body if it is current.",
        },
    }
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            statuses = {str(status) for status in operation.get("responses", {})}
            for status, header in headers.items():
                if status in statuses:
                    parameter = {**header, "in": "header", "schema": {"type": "string"}}
                    operation.setdefault("parameters", []).append(parameter)
