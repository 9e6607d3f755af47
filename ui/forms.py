"""Officer forms drawn from a trigger's JSON Schema, read back into its formData.

Each property becomes one GOV.UK question; input names are the property names (a date's
parts add `-day`, `-month`, `-year`, an appointment's also `-hour`, `-minute`). What the
officer typed is kept as typed, so a form shown again with errors keeps every answer.
Validation is the trigger's own schema, in the use case: errors come back as the use case's
field errors and are given here the words of the schema's `errorMessage` or of the label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from machines.forms import BOOLEAN, TRUE
from services.errors import FieldError
from ui.wording import day

MAX_RADIOS = 7
"""More choices than this are a select, as GOV.UK advises."""
DATE_PARTS = ("day", "month", "year")
TIME_PARTS = ("hour", "minute")


@dataclass(frozen=True)
class Question:
    """One property of a form, as a GOV.UK component asks it."""

    name: str
    widget: str
    label: str
    hint: str | None
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    error_message: str | None = None

    @property
    def anchor(self) -> str:
        """The id of the first input, which the error summary links to."""
        if self.widget in ("date", "datetime"):
            return f"{self.name}-day"
        return self.name

    def inputs(self) -> list[str]:
        """The names of this question's inputs."""
        if self.widget == "date":
            return [f"{self.name}-{part}" for part in DATE_PARTS]
        if self.widget == "datetime":
            return [f"{self.name}-{part}" for part in (*DATE_PARTS, *TIME_PARTS)]
        return [self.name]


def questions(
    schema: Mapping[str, Any], people: list[tuple[str, str]] | None = None
) -> list[Question]:
    """The questions of a form schema, in its order; `people` are the choices of a question
    about a person (id, words)."""
    required = set(schema.get("required", []))
    properties = dict(schema.get("properties") or {})
    # `x-ui.order` asks questions in a reading order other than required-then-optional.
    order = (schema.get("x-ui") or {}).get("order") or []
    names = [n for n in order if n in properties] + [n for n in properties if n not in order]
    found = []
    for name, prop in ((n, properties[n]) for n in names):
        widget = _widget(prop)
        choices: list[tuple[str, str]] = []
        if widget in ("radios", "select"):
            named = (prop.get("x-ui") or {}).get("choices") or {}
            choices = [(str(v), str(named.get(v, v))) for v in prop.get("enum", [])]
            if widget == "radios" and len(choices) > MAX_RADIOS:
                widget = "select"
        elif widget == "person":
            choices = list(people or [])
        found.append(
            Question(
                name=name,
                widget=widget,
                label=str(prop.get("title") or words(name)),
                hint=prop.get("description"),
                required=name in required,
                choices=choices,
                max_length=prop.get("maxLength"),
                error_message=prop.get("errorMessage"),
            )
        )
    return found


def _widget(prop: Mapping[str, Any]) -> str:
    chosen = (prop.get("x-ui") or {}).get("widget")
    if chosen:
        return str(chosen)
    enum = prop.get("enum")
    if enum == BOOLEAN["enum"]:
        return "yesno"
    if enum == TRUE["enum"]:
        return "confirm"
    if enum:
        return "radios"
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "appointment-date-time":
        return "datetime"
    if prop.get("type") == "string" and (prop.get("maxLength") or 10_000) > 100:
        return "textarea"
    return "text"


def typed(asked: list[Question], form: Mapping[str, str]) -> dict[str, str]:
    """What the officer typed, by input name (kept to show the form again)."""
    return {name: form.get(name, "") for q in asked for name in q.inputs()}


def form_data(asked: list[Question], values: Mapping[str, str]) -> dict[str, Any]:
    """The formData the typed values stand for; an unanswered question is left out."""
    data: dict[str, Any] = {}
    for q in asked:
        raw = values.get(q.name, "").strip()
        if q.widget == "yesno":
            if raw in ("yes", "no"):
                data[q.name] = raw == "yes"
        elif q.widget == "confirm":
            if raw == "yes":
                data[q.name] = True
        elif q.widget == "date":
            parts = [values.get(f"{q.name}-{p}", "").strip() for p in DATE_PARTS]
            if any(parts):
                data[q.name] = _date(*parts)
        elif q.widget == "datetime":
            parts = [values.get(f"{q.name}-{p}", "").strip() for p in (*DATE_PARTS, *TIME_PARTS)]
            if any(parts):
                data[q.name] = f"{_date(*parts[:3])}T{_two(parts[3])}:{_two(parts[4])}:00"
        elif raw:
            # A textarea keeps its line breaks and inner spacing as typed.
            data[q.name] = values.get(q.name, "") if q.widget == "textarea" else raw
    return data


def values_of(asked: list[Question], data: Mapping[str, Any]) -> dict[str, str]:
    """Typed values that stand for stored formData (the inverse of `form_data`)."""
    values: dict[str, str] = {}
    for q in asked:
        if q.name not in data:
            continue
        value = data[q.name]
        if q.widget == "yesno":
            values[q.name] = "yes" if str(value).lower() == "true" else "no"
        elif q.widget == "confirm":
            values[q.name] = "yes" if str(value).lower() == "true" else ""
        elif q.widget in ("date", "datetime"):
            match = re.match(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?", str(value))
            if match:
                year, month, day, hour, minute = match.groups()
                values.update(
                    {
                        f"{q.name}-day": str(int(day)),
                        f"{q.name}-month": str(int(month)),
                        f"{q.name}-year": year,
                    }
                )
                if q.widget == "datetime" and hour is not None:
                    values.update({f"{q.name}-hour": hour, f"{q.name}-minute": minute})
        else:
            values[q.name] = str(value)
    return values


def messages(asked: list[Question], errors: list[FieldError]) -> dict[str, str]:
    """One message per question, in the form's order, from the use case's field errors.

    Errors about something other than a question (the case's documents, say) are kept under
    their own field name.
    """
    by_name = {q.name: q for q in asked}
    found: dict[str, str] = {}
    for error in errors:
        name = error.field.removeprefix("formData.").split(".", 1)[0]
        question = by_name.get(name)
        if question is None:
            found.setdefault(error.field, error.message)
        else:
            found.setdefault(name, question.error_message or _generic(question, error))
    order = {q.name: index for index, q in enumerate(asked)}
    return dict(sorted(found.items(), key=lambda item: order.get(item[0], len(order))))


def _generic(q: Question, error: FieldError) -> str:
    """GOV.UK's wording for a question without a message of its own."""
    label = q.label.rstrip("?").removesuffix(" (optional)")
    lowered = label[:1].lower() + label[1:]
    if q.widget in ("yesno",):
        return "Select yes or no"
    if q.widget in ("radios", "select", "person"):
        return f"Select {lowered}"
    if q.widget == "confirm":
        return f"Confirm: {lowered}"
    if q.widget in ("date", "datetime"):
        return f"{label} must be a real date"
    if q.max_length and "long" in error.message:
        return f"{label} must be {q.max_length:,} characters or fewer"
    return f"Enter {lowered}"


def answers(asked: list[Question], data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each answered question and its answer in words, for a summary list."""
    rows = []
    for q in asked:
        if q.name not in data:
            continue
        rows.append((q.label, answer(q, data[q.name])))
    return rows


def answer(q: Question, value: Any) -> str:
    """An answer in words."""
    text = str(value)
    if q.widget in ("yesno", "confirm"):
        return "Yes" if text.lower() == "true" else "No"
    if q.choices:
        return dict(q.choices).get(text, text)
    if q.widget == "date":
        return day(text)
    if q.widget == "datetime":
        match = re.match(r"(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})", text)
        if match:
            return f"{day(match.group(1))} at {match.group(2)}:{match.group(3)}"
    return text


def _date(day: str, month: str, year: str) -> str:
    """yyyy-mm-dd from the parts typed; parts that are not numbers stay, and fail the schema."""
    return f"{year if not year.isdigit() else year.zfill(4)}-{_two(month)}-{_two(day)}"


def _two(part: str) -> str:
    return part.zfill(2) if part.isdigit() else part


def words(name: str) -> str:
    """A camelCase name in words: incomingTenantId becomes Incoming tenant id."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return spaced[:1].upper() + spaced[1:].lower()
