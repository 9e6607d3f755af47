"""What the use cases need from the world, as protocols: the process store, the document
store, the dispatcher of follow-ups, and the services that own tenures and persons.

Storage, the adapters and the workers implement these; the use cases know only this module.
Records of the Tenure and Person APIs use those APIs' JSON shapes (camelCase dicts); two
adapters implement them: HTTP clients (`adapters.http_services`) and a local store for
demonstrations and development (`storage.local_services`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol

from machines.model import DocumentInfo, FollowUp, Process
from machines.queries import ProcessQuery

Record = dict[str, Any]


class RecordNotFound(Exception):
    """The owning service has no record with this id: retrying will not help."""

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(f"{kind.capitalize()} {record_id} was not found.")
        self.kind = kind
        self.record_id = record_id


class ServiceUnavailable(Exception):
    """The owning service failed in a way that may pass (timeout, 5xx, refused connection)."""


class Tenures(Protocol):
    def get(self, tenure_id: str) -> Record:
        """The tenure, or RecordNotFound."""
        ...

    def end(self, tenure_id: str, end_date: str) -> None:
        """Set the tenure's endOfTenureDate (yyyy-MM-dd). Repeating it changes nothing."""
        ...

    def create(self, tenure: Record) -> Record:
        """Create `tenure` under its own `id`; if a tenure with that id exists, return it."""
        ...


class Persons(Protocol):
    def get(self, person_id: str) -> Record:
        """The person, or RecordNotFound."""
        ...

    def update_name(self, person_id: str, name: Record) -> None:
        """Set title, firstName, middleName and surname. Repeating it changes nothing."""
        ...


@dataclass(frozen=True)
class Ports:
    """The outside services a step may use."""

    tenures: Tenures
    persons: Persons


class Repository(Protocol):
    """Where processes are kept: version-checked saves, an outbox written with each change."""

    def add(self, process: Process) -> None: ...
    def get(self, process_id: str) -> Process: ...
    def save(self, process: Process) -> None: ...
    def check_size(self, process: Process, budget: int) -> None: ...
    def search(
        self, query: ProcessQuery, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Process]: ...


class Housekeeping(Repository, Protocol):
    """What beat's periodic work also asks of the store."""

    def stale_follow_ups(
        self, created_before: datetime, now: datetime, limit: int = 500
    ) -> Iterator[tuple[str, list[FollowUp]]]: ...
    def forget_follow_ups(self, done: Mapping[str, Iterable[str]]) -> None: ...
    def remove_follow_ups(self, process_id: str, follow_up_ids: Iterable[str]) -> None: ...
    def overdue_ids(self, now: datetime, limit: int = 500) -> list[str]: ...
    def reminder_ids(self, now: datetime, limit: int = 500) -> list[str]: ...
    def waiting_automation(self, queued_before: datetime, limit: int = 500) -> list[Process]: ...


Dispatch = Callable[[str, list[FollowUp]], Collection[str] | None]
"""Hands follow-ups on (queues tasks, publishes events); returns the ids of those it has
done in place (events it published, or found published), which the process's next save
drops from the outbox (steps are dropped by the save of their outcome)."""


class Files(Protocol):
    """Where document bytes and metadata are kept (storage.documents.DocumentStore)."""

    def put(self, document: DocumentInfo, source: IO[bytes]) -> None: ...
    def get(self, document_id: str) -> DocumentInfo: ...
    def list_for_process(self, process_id: str) -> list[DocumentInfo]: ...
    def open(self, document_id: str) -> Iterator[bytes]: ...
    def set_state(self, document_id: str, state: str) -> None: ...
    def delete(self, document_id: str) -> bool: ...
