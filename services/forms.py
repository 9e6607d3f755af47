"""Check client data before it reaches a machine or the store.

Two layers: `check_storable` refuses what must never be stored (operator-like keys, deep
nesting, markup); `validate_form` checks form data against a trigger's JSON Schema and names
every failing field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from services.errors import FieldError, InvalidInput

MAX_DEPTH = 8
MAX_KEYS = 200
MAX_ITEMS = 500
MIN_NUMBER = -(2**63)
MAX_NUMBER = 2**63 - 1

MARKUP = re.compile(r"<[A-Za-z!/?]|&#")
"""What the existing API's validators refuse as markup (its rule W42): a `<` followed by a
letter, `!`, `/` or `?` (a tag, a comment, a processing instruction), or `&#` (a character
reference). Front ends render what is stored; stored text holds none of these."""
MARKUP_MESSAGE = "Markup is not accepted: no '<' before a letter, '!', '/' or '?', and no '&#'."
NO_MARKUP_PATTERN = r"^(?:[^<&]|[<&]*<[^<&A-Za-z!/?]|[<&]*&[^<&#])*[<&]*$"
"""The strings `MARKUP` does not match, as a JSON Schema pattern (which cannot negate): runs of
`<` and `&` are harmless inside, and only what follows a run's last character matters."""

_APPOINTMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$"
)

format_checker = FormatChecker()


@format_checker.checks("appointment-date-time", raises=ValueError)
def _is_appointment(value: object) -> bool:
    """An ISO 8601 local or offset date and time that exists on the calendar."""
    if not isinstance(value, str):
        return True
    if not _APPOINTMENT.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


_validators: dict[int, Draft202012Validator] = {}


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    # Definitions are built once at import, so a schema's identity is a stable cache key.
    validator = _validators.get(id(schema))
    if validator is None:
        validator = Draft202012Validator(schema, format_checker=format_checker)
        _validators[id(schema)] = validator
    return validator


def validate_form(schema: Mapping[str, Any], form_data: dict[str, Any], what: str) -> None:
    """Raise `InvalidInput` (422) naming each field of `form_data` that `schema` rejects."""
    errors = [
        error
        for error in sorted(_validator(schema).iter_errors(form_data), key=lambda e: list(e.path))
    ]
    if errors:
        field_errors = [fe for error in errors for fe in _field_errors(error)]
        raise InvalidInput(
            f"The formData is not valid for {what}.", field_errors, unprocessable=True
        )


def drop_unanswered(schema: Mapping[str, Any], form_data: dict[str, Any]) -> dict[str, Any]:
    """`form_data` without the optional questions sent as "" whose answers are an enumeration
    without "": the existing front end sends an unanswered select that way, and an unanswered
    optional question is one left out (neither checked nor stored)."""
    required = set(schema.get("required", ()))
    properties = schema.get("properties", {})

    def unanswered(key: str, value: Any) -> bool:
        answers = properties.get(key, {}).get("enum")
        return value == "" and key not in required and answers is not None and "" not in answers

    return {key: value for key, value in form_data.items() if not unanswered(key, value)}


def _field_errors(error: ValidationError) -> list[FieldError]:
    base = "formData" + "".join(f".{part}" for part in error.path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return [FieldError(f"{base}.{name}", "This field is required.") for name in missing]
    if error.validator == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extra = sorted(set(error.instance if isinstance(error.instance, dict) else {}) - allowed)
        hint = f" Expected only: {', '.join(sorted(allowed))}." if allowed else ""
        return [FieldError(f"{base}.{name}", f"Unknown field.{hint}") for name in extra]
    custom = schema.get("errorMessage")
    if custom:
        return [FieldError(base, custom)]
    if error.validator == "enum":
        options = ", ".join(_show(v) for v in schema.get("enum", []))
        return [FieldError(base, f"{_show(error.instance)} is not one of: {options}.")]
    if error.validator == "format":
        return [
            FieldError(base, f"{_show(error.instance)} is not a valid {error.validator_value}.")
        ]
    return [FieldError(base, error.message)]


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def has_markup(text: str) -> bool:
    """Whether `text` holds what the existing API refuses as markup (`MARKUP`)."""
    return MARKUP.search(text) is not None


def check_storable(value: Any, where: str) -> None:
    """Refuse keys MongoDB would read as operators or paths, oversized nesting, and markup
    in any key or string.

    Client data is stored as given, never rewritten, so what cannot be stored safely is
    refused with 400 instead.
    """
    errors: list[FieldError] = []
    _walk(value, where, 0, errors)
    if errors:
        raise InvalidInput(f"The {where} cannot be stored as sent.", errors, unprocessable=False)


def _walk(value: Any, path: str, depth: int, errors: list[FieldError]) -> None:
    if depth > MAX_DEPTH:
        errors.append(FieldError(path, f"Nested deeper than {MAX_DEPTH} levels."))
        return
    if isinstance(value, dict):
        if len(value) > MAX_KEYS:
            errors.append(FieldError(path, f"More than {MAX_KEYS} keys."))
            return
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("$") or "." in key or "\0" in key:
                errors.append(
                    FieldError(f"{path}.{key}", "Keys may not start with '$' or contain '.'.")
                )
                continue
            if has_markup(key):
                errors.append(FieldError(f"{path}.{key}", f"In the key: {MARKUP_MESSAGE}"))
                continue
            _walk(item, f"{path}.{key}", depth + 1, errors)
    elif isinstance(value, bool):
        return
    elif isinstance(value, str):
        if has_markup(value):
            errors.append(FieldError(path, MARKUP_MESSAGE))
    elif isinstance(value, float) and not math.isfinite(value):
        errors.append(FieldError(path, "NaN and Infinity are not JSON numbers."))
    elif isinstance(value, int | float) and not MIN_NUMBER <= value <= MAX_NUMBER:
        # Floats too: JSON does not tell 1e19 from 10000000000000000000, nor does the schema.
        errors.append(FieldError(path, "Numbers must fit in 64 bits."))
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            errors.append(FieldError(path, f"More than {MAX_ITEMS} items."))
            return
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", depth + 1, errors)
