"""Request bodies and query strings: validated by apiflask, published in the OpenAPI document."""

from __future__ import annotations

import json
import uuid
from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import RAISE, ValidationError, post_load, pre_load, validates_schema

from services.errors import FieldError, InvalidInput
from services.forms import MARKUP_MESSAGE, NO_MARKUP_PATTERN, has_markup

TARGET_TYPES = ["tenure", "person", "asset"]
MAX_DOCUMENTS = 100
MAX_RELATED = 50


NIL_UUID = "00000000-0000-0000-0000-000000000000"
UUID = {"format": "uuid", "not": {"const": NIL_UUID}}
"""OpenAPI metadata of a field validated by `is_uuid`."""


def is_uuid(value: str) -> None:
    """A UUID in its hyphenated 36-character form, as every id in this API is (and as the
    OpenAPI `uuid` format describes it), and not the nil UUID: no record has that id, so a
    client sending it has an empty value in hand (the existing API refuses it too)."""
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise ValidationError("Must be a UUID.") from None
    if len(value) != 36 or any(value[i] != "-" for i in (8, 13, 18, 23)):
        raise ValidationError("Must be a UUID in its 36-character form.")
    if value == NIL_UUID:
        raise ValidationError(f"Must not be the nil UUID {NIL_UUID}.")


TEXT = {"pattern": NO_MARKUP_PATTERN}
"""OpenAPI metadata of a free-text field validated by `no_markup`."""


def no_markup(value: str | None) -> None:
    """Free text without markup, as the existing API's validators require (rule W42)."""
    if value is not None and has_markup(value):
        raise ValidationError(MARKUP_MESSAGE)


def text(max_length: int, *, required: bool = False) -> String:
    """A free-text field: at most `max_length` characters (at least one when required), no
    markup."""
    length = Length(min=1, max=max_length) if required else Length(max=max_length)
    return String(
        required=required, allow_none=not required, validate=[length, no_markup], metadata=TEXT
    )


def path_id(value: str, field: str = "id") -> str:
    """`value`, an id from the URL, or `InvalidInput` (400) naming `field` and what is wrong."""
    try:
        is_uuid(value)
    except ValidationError as error:
        (message,) = error.messages
        raise InvalidInput(
            f"The {field} in the URL is not a usable UUID.",
            [FieldError(field, str(message))],
            unprocessable=False,
        ) from None
    return value


class CaseInsensitive(Schema):
    """Accept field names in any letter case (the existing front end sends `targetID`)."""

    class Meta:
        unknown = RAISE

    @pre_load
    def normalise_case(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names = {name.lower(): name for name in self.fields}
        return {names.get(k.lower(), k) if isinstance(k, str) else k: v for k, v in data.items()}


class RelatedEntity(CaseInsensitive):
    id = String(required=True, validate=is_uuid, metadata=UUID)
    targetType = String(required=True, validate=OneOf(TARGET_TYPES))
    subType = text(50)
    description = text(500)


class Assignment(CaseInsensitive):
    """Who the process is with: a patch, and optionally a team and an officer.

    The existing API's shape, `{"type": "patch", "value": "E3"}` (its clients also send
    `"patch": "E3"` alongside), is accepted and stored as `{"patch": "E3"}`.
    """

    patch = text(100)
    patchId = text(100)
    patchName = text(200)
    team = text(100)
    officerId = text(100)
    officerName = text(200)
    type = String(
        validate=OneOf(["patch"]),
        metadata={"description": "The existing API's kind of assignment; only `patch`."},
    )
    value = String(
        allow_none=True,
        validate=[Length(max=100), no_markup],
        metadata={**TEXT, "description": "With `type`: the patch; the same as `patch` if both."},
    )

    @validates_schema
    def agrees_with_itself(self, data: dict[str, Any], **_: Any) -> None:
        """`value` comes with its `type`, and names the patch `patch` names, if both are sent."""
        if "value" not in data:
            return
        if "type" not in data:
            raise ValidationError("Required with value.", field_name="type")
        if "patch" in data and data["patch"] != data["value"]:
            raise ValidationError(
                f"Differs from patch ({data['patch']!r}): send one patch.", field_name="value"
            )

    @post_load
    def as_patch(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Store the existing API's shape as this API's: the value is the patch."""
        data.pop("type", None)
        if "value" in data:
            data["patch"] = data.pop("value")
        return data


class PatchAssignment(CaseInsensitive):
    """The existing front end's v2 form of an assignment; stored as `assignment`."""

    patchId = text(100, required=True)
    patchName = text(200, required=True)
    responsibleEntityId = text(100, required=True)
    responsibleName = text(200, required=True)


DOCUMENTS = List(
    String(validate=is_uuid, metadata=UUID), validate=Length(max=MAX_DOCUMENTS), load_default=list
)


class NewProcess(CaseInsensitive):
    """Start a process. `processName` is taken from the URL when the URL names it."""

    processName = String(validate=Length(min=1, max=100))
    targetId = String(required=True, validate=is_uuid, metadata=UUID)
    targetType = String(validate=OneOf(TARGET_TYPES))
    relatedEntities = List(Nested(RelatedEntity), required=True, validate=Length(max=MAX_RELATED))
    formData = Dict(keys=String(), load_default=dict)
    documents = DOCUMENTS
    assignment = Nested(Assignment)
    patchAssignment = Nested(PatchAssignment)


V2_RELATED_TARGET_TYPES = ("tenure", "person", "asset")
"""The target types the related entities of a v2 create must cover. The existing API's v2
demands all three of every process (its processes are about a tenant's tenure, its person and
its asset, and the front end sends the three); so does this one's, whatever the process."""


class PatchAssignmentV2(PatchAssignment):
    """`patchAssignment` as the existing API's v2 checks it: ids are UUIDs."""

    patchId = String(required=True, validate=is_uuid, metadata=UUID)
    responsibleEntityId = String(required=True, validate=is_uuid, metadata=UUID)


class NewProcessV2(CaseInsensitive):
    """Start a process with the existing API's v2 body (POST /api/v2/process/{name})."""

    targetId = String(required=True, validate=is_uuid, metadata=UUID)
    targetType = String(required=True, validate=OneOf(TARGET_TYPES))
    relatedEntities = List(
        Nested(RelatedEntity), required=True, validate=Length(min=1, max=MAX_RELATED)
    )
    formData = Dict(keys=String(), load_default=dict)
    documents = DOCUMENTS
    patchAssignment = Nested(PatchAssignmentV2, required=True)

    @validates_schema
    def covers_the_target(self, data: dict[str, Any], **_: Any) -> None:
        """Related entities of every type the process needs, the target among them; in the
        existing API's words."""
        related = data["relatedEntities"]
        problems = []
        if not set(V2_RELATED_TARGET_TYPES) <= {entity["targetType"] for entity in related}:
            problems.append(
                "RelatedEntities must contain all of the following target types: "
                f"[{', '.join(V2_RELATED_TARGET_TYPES)}]."
            )
        target = (uuid.UUID(data["targetId"]), data["targetType"])
        if not any((uuid.UUID(e["id"]), e["targetType"]) == target for e in related):
            problems.append(
                f"RelatedEntities must contain object with targetId: {data['targetId']} and "
                f"targetType: {data['targetType']}."
            )
        if problems:
            raise ValidationError(problems, field_name="relatedEntities")


class NewProcessNamed(NewProcess):
    """Start a process of the type named by `processName`."""

    processName = String(required=True, validate=Length(min=1, max=100))


class ProcessData(CaseInsensitive):
    formData = Dict(keys=String())
    documents = List(String(validate=is_uuid, metadata=UUID), validate=Length(max=MAX_DOCUMENTS))


def _canonical(value: Any) -> str:
    # JSON, not ==: True == 1 and 1 == 1.0 in Python, but not in what a client sent.
    return json.dumps(value, sort_keys=True)


class SentWithTrigger(CaseInsensitive):
    """A body that fires a trigger with `formData` and `documents`. The existing front end
    also sends them again under `processData`, which the existing API ignores: accepted when it
    repeats them, refused when it says something else, and dropped either way."""

    # A trigger's answers sent beside formData, not in it, is the likeliest mistake here.
    error_messages = {"unknown": "Unknown field. Form answers go under formData."}

    def fires(self, data: dict[str, Any]) -> bool:
        """Whether this body fires a trigger (always, where the URL names it)."""
        return True

    @validates_schema
    def repeats_process_data(self, data: dict[str, Any], **_: Any) -> None:
        """processData, with a trigger, only repeats formData and documents."""
        repeated = data.get("processData")
        if not repeated or not self.fires(data):
            return
        errors = {}
        for name, default in (("formData", {}), ("documents", [])):
            sent = data.get(name, default)
            if name in repeated and _canonical(repeated[name]) != _canonical(sent):
                errors[name] = [
                    f"Differs from {name}. With a trigger, {name} is the data sent; "
                    "processData may only repeat it."
                ]
        if errors:
            raise ValidationError({"processData": errors})

    @post_load
    def drop_process_data(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Leave out the repeat, so that only formData and documents reach the use case."""
        if self.fires(data):
            data.pop("processData", None)
        return data


class ProcessChange(SentWithTrigger):
    """Fire `trigger` with `formData` and `documents`, or edit `processData` or `assignment`."""

    error_messages = {
        "unknown": "Unknown field. Form answers go under formData (with a trigger), or "
        "under processData.formData (an edit without one)."
    }

    trigger = String(validate=Length(min=1, max=100))
    formData = Dict(keys=String())
    documents = List(String(validate=is_uuid, metadata=UUID), validate=Length(max=MAX_DOCUMENTS))
    processData = Nested(ProcessData)
    assignment = Nested(Assignment)

    def fires(self, data: dict[str, Any]) -> bool:
        """Whether this body fires a trigger: it names one."""
        return bool(data.get("trigger"))


class TriggerData(SentWithTrigger):
    """The body of PATCH .../{id}/{trigger}."""

    formData = Dict(keys=String(), load_default=dict)
    documents = DOCUMENTS
    processData = Nested(ProcessData)
    assignment = Nested(Assignment)


class ListQuery(Schema):
    """Filters of a listing or worktray; every one is backed by an index."""

    class Meta:
        unknown = RAISE

    targetId = String(
        validate=is_uuid, metadata={**UUID, "description": "Processes about this target."}
    )
    processName = String(validate=Length(min=1, max=100))
    state = String(validate=Length(min=1, max=100), metadata={"description": "Current state."})
    patch = String(validate=Length(min=1, max=100), metadata={"description": "Assigned patch."})
    assignee = String(
        validate=Length(min=1, max=100), metadata={"description": "Responsible officer's id."}
    )
    overdue = Boolean(metadata={"description": "Only overdue (true) or on-time (false) cases."})
    automationStatus = String(
        validate=OneOf(["queued", "failed"]),
        metadata={
            "description": "Only cases whose automated step is queued, or failed "
            "(`currentState.automation.reason` says why; retry with .../automation/retry)."
        },
    )
    sort = String(
        load_default="createdAt",
        validate=OneOf(["createdAt", "updatedAt", "dueAt"]),
        metadata={"description": "createdAt and updatedAt: newest first; dueAt: soonest first."},
    )
    pageSize = Integer(load_default=10, validate=Range(min=1, max=100))
    paginationToken = String(validate=Length(max=500))
