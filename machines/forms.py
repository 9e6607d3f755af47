"""JSON Schema building blocks for the form data clients send with triggers.

Values are typed: booleans, dates and enumerations are checked when they are entered,
not at the last step. `errorMessage` on a property replaces the generic message with one
a housing officer understands.

Forms and fields also carry words for people: `title` (a form's heading, a field's label),
`description` (the hint) and `x-ui` (how to ask: `widget`, `choices` naming each enum value
in words, `confirm` for a form whose effect cannot be undone, so it is checked first).
Validation ignores them; the officer pages and the OpenAPI document show them.
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
    required: dict[str, Schema] | None = None,
    optional: dict[str, Schema] | None = None,
    *,
    title: str | None = None,
    description: str | None = None,
    confirm: bool = False,
    order: list[str] | None = None,
) -> Schema:
    """An object schema with exactly these keys: unknown keys are rejected, not ignored.

    `title` and `description` say what sending it does; `confirm` marks a form whose effect
    cannot be undone (an officer checks their answers before it is sent); `order` is the order
    to ask the questions in, where it is not required-then-optional.
    """
    required = required or {}
    properties = {**required, **(optional or {})}
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if title:
        schema["title"] = title
    if description:
        schema["description"] = description
    ui: Schema = {}
    if confirm:
        ui["confirm"] = True
    if order:
        ui["order"] = list(order)
    if ui:
        schema["x-ui"] = ui
    return schema


def field(
    schema: Schema,
    title: str,
    hint: str | None = None,
    error: str | None = None,
    **ui: Any,
) -> Schema:
    """`schema` with the words a person reads: its label, hint and error message, and how the
    officer pages ask for it (`x-ui`: widget, choices)."""
    labelled: Schema = {**schema, "title": title}
    if hint:
        labelled["description"] = hint
    elif "description" in labelled:
        del labelled["description"]  # a format's note is for developers, not a hint
    if error:
        labelled["errorMessage"] = error
    if ui:
        labelled["x-ui"] = {**schema.get("x-ui", {}), **ui}
    return labelled


def yes_no(title: str, hint: str | None = None, error: str | None = None) -> Schema:
    """A yes/no question."""
    return field(BOOLEAN, title, hint, error or "Select yes or no", widget="yesno")


def choice(values: dict[str, str], title: str, error: str, hint: str | None = None) -> Schema:
    """One of `values` (value: words)."""
    return field({"enum": list(values)}, title, hint, error, choices=values)


def must_be_true(message: str, title: str | None = None) -> Schema:
    """A yes/no answer that has to be yes to go on: one "I confirm" checkbox."""
    schema: Schema = {**TRUE, "errorMessage": message, "x-ui": {"widget": "confirm"}}
    if title:
        schema["title"] = title
    return schema


def is_true(value: Any) -> bool:
    """Read a boolean answer sent either as a JSON boolean or as a "true"/"false" string."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


EMPTY = form()
