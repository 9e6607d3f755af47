"""The process aggregate: its current state, its history and the follow-ups a change causes.

Plain data and small methods, no I/O. Storage turns it into documents; the API turns it
into the brief's payload.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Actor = dict[str, Any]
"""Who acted: `id`, `name`, `email` (and `groups`) as far as known."""


@dataclass
class StateEntry:
    """One state a process entered, with the data that came with the trigger that entered it."""

    state: str
    permitted_triggers: list[str]
    assignment: dict[str, Any]
    form_data: dict[str, Any]
    documents: list[str]
    trigger: str | None
    acted_by: Actor | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None = None
    reminder_at: datetime | None = None
    """When to remind about the appointment this state booked, if it booked one."""
    reminded: bool = False
    automation: dict[str, Any] | None = None
    """The automated step of this state, when it has one: its step, status and last error."""
    overdue: bool = False


@dataclass
class FollowUp:
    """Work to do once a change is stored: a step for a worker or an event to publish."""

    kind: Literal["task", "event"]
    name: str
    payload: dict[str, Any]
    created_at: datetime
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Activity:
    """Something that happened to a process without a change of state (an edit, a document,
    a reassignment, an automation failure), kept for the audit trail."""

    kind: str
    state: str
    acted_by: Actor | None
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Process:
    """One running (or finished) case of a process type."""

    id: str
    process_name: str
    target_id: str
    target_type: str
    related_entities: list[dict[str, Any]]
    current_state: StateEntry
    previous_states: list[StateEntry]
    definition_version: int
    created_at: datetime
    updated_at: datetime
    created_by: Actor | None = None
    version: int = 0
    follow_ups: list[FollowUp] = field(default_factory=list)
    """Follow-ups added since the process was loaded; stored with the change that made them."""
    outbox: list[FollowUp] = field(default_factory=list)
    """Follow-ups earlier changes stored that were still in the outbox when it was loaded."""
    done: set[str] = field(default_factory=set)
    """Ids of outbox follow-ups known to be done (handed on): the next save drops them."""
    activity: list[Activity] = field(default_factory=list)
    new_states: int = field(default=0, compare=False)
    """How many of `previous_states` were entered since the process was loaded (the change
    to store), as `follow_ups` are the follow-ups it caused."""
    new_activity: int = field(default=0, compare=False)
    """How many of `activity`'s entries were recorded since the process was loaded."""

    @property
    def state(self) -> str:
        return self.current_state.state

    @property
    def states(self) -> list[StateEntry]:
        """Every state entered, oldest first, the current one last."""
        return [*self.previous_states, self.current_state]

    def enter(self, entry: StateEntry) -> None:
        """Make `entry` the current state, keeping the one it replaces in the history."""
        self.previous_states.append(self.current_state)
        self.new_states += 1
        self.current_state = entry
        self.updated_at = entry.created_at

    def record(self, kind: str, actor: Actor | None, at: datetime, **details: Any) -> None:
        """Add an entry to the audit trail."""
        self.activity.append(Activity(kind, self.state, actor, at, details))
        self.new_activity += 1

    @property
    def has_unsaved_changes(self) -> bool:
        return bool(self.follow_ups or self.new_states or self.new_activity)

    def add_follow_up(self, follow_up: FollowUp) -> None:
        self.follow_ups.append(follow_up)

    def find_related(self, target_type: str, sub_type: str | None = None) -> dict[str, Any] | None:
        """The first related entity of the given type (and subtype, when given)."""
        for entity in self.related_entities:
            if entity.get("targetType") == target_type and (
                sub_type is None or entity.get("subType") == sub_type
            ):
                return entity
        return None

    def last_entry_in(self, state: str) -> StateEntry | None:
        """The most recent time the process entered `state`, if it did."""
        for entry in reversed(self.states):
            if entry.state == state:
                return entry
        return None


@dataclass(frozen=True)
class DocumentInfo:
    """What is known about a stored document, besides its bytes."""

    id: str
    process_id: str
    process_name: str
    filename: str
    content_type: str
    size: int
    sha256: str
    state: str
    """The state the process was in when the document was attached."""
    uploaded_by: Actor | None
    uploaded_at: datetime
