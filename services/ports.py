"""What automated steps need from the services that own tenures and persons.

Records use the JSON shapes of the Tenure and Person APIs (camelCase dicts). Two adapters
implement these protocols: HTTP clients of those APIs (`adapters.http_services`) and a
local store for demonstrations and development (`storage.local_services`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

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
