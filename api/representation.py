"""The process as clients see it: the brief's payload, keyed by process name, camelCase."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from machines.model import Process, StateEntry
from services.events import iso


def process_json(process: Process) -> dict[str, Any]:
    """`{processName: {...}}`, the representation every process endpoint returns."""
    return {process.process_name: process_body(process)}


def process_body(process: Process) -> dict[str, Any]:
    return {
        "id": process.id,
        "processName": process.process_name,
        "targetId": process.target_id,
        "targetType": process.target_type,
        "relatedEntities": process.related_entities,
        "currentState": state_json(process.current_state, process.target_id),
        "processStates": [state_json(s, process.target_id) for s in process.states],
        "version": process.version,
        "definitionVersion": process.definition_version,
        "createdAt": iso(process.created_at),
        "updatedAt": iso(process.updated_at),
        "createdBy": process.created_by,
        "activity": [
            {
                "kind": a.kind,
                "state": a.state,
                "actedBy": a.acted_by,
                "at": iso(a.at),
                "details": _with_iso_times(a.details),
            }
            for a in process.activity
        ],
    }


def state_json(entry: StateEntry, target_id: str) -> dict[str, Any]:
    return {
        "state": entry.state,
        "permittedTriggers": entry.permitted_triggers,
        "assignment": {"patch": None, **entry.assignment},
        "processData": {
            "targetId": target_id,
            "formData": entry.form_data,
            "documents": entry.documents,
        },
        "trigger": entry.trigger,
        "actedBy": entry.acted_by,
        "createdAt": iso(entry.created_at),
        "updatedAt": iso(entry.updated_at),
        "dueAt": iso(entry.due_at) if entry.due_at else None,
        "overdue": entry.overdue,
        "reminderAt": iso(entry.reminder_at) if entry.reminder_at else None,
        "automation": _with_iso_times(entry.automation),
    }


def _with_iso_times(automation: dict[str, Any] | None) -> dict[str, Any] | None:
    if automation is None:
        return None
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in automation.items()}


def etag(process: Process) -> str:
    return f'"{process.version}"'
