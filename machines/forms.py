"""JSON Schema building blocks for the form data clients send with triggers.

Values are typed: booleans, dates and enumerations are checked when they are entered,
not at the last step. `errorMessage` on a property replaces the generic message with one
a housing officer understands.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

TITLES = ("Dr", "Master", "Miss", "Mr", "Mrs", "Ms", "Mx", "Other", "Rabbi", "Reverend")

# The existing front end sends checkbox answers as "true"/"false" strings; accept both forms.
BOOLEAN: Schema = {"enum": [True, False, "true", "false", "True", "False"]}
TRUE: Schema = {"enum": [True, "true", "True"]}
UUID: Schema = {"type": "string", "format": "uuid"}
TEXT: Schema = {"type": "string", "maxLength": 2000}
NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"}
DATE: Schema = {"type": "string", "format": "date", "description": "yyyy-MM-dd"}
APPOINTMENT: Schema = {
    "type": "string",
    "format": "appointment-date-time",
    "description": "ISO 8601 date and time, e.g. 2026-12-01T10:30:00 (offset optional)",
}


def form(
    required: dict[str, Schema] | None = None, optional: dict[str, Schema] | None = None
) -> Schema:
    """An object schema with exactly these keys: unknown keys are rejected, not ignored."""
    required = required or {}
    properties = {**required, **(optional or {})}
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def must_be_true(message: str) -> Schema:
    """A yes/no answer that has to be yes to go on."""
    return {**TRUE, "errorMessage": message}


def is_true(value: Any) -> bool:
    """Read a boolean answer sent either as a JSON boolean or as a "true"/"false" string."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


EMPTY = form()
