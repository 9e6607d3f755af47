"""What can go wrong in a use case, in terms an API or a worker can act on."""

from __future__ import annotations

from dataclasses import dataclass


class ServiceError(Exception):
    """Base of the errors a caller is expected to handle."""


class UnknownProcessName(ServiceError):
    """No process type has this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"There is no process called {name!r}. Known: {', '.join(known)}.")


class UnknownTrigger(ServiceError):
    """The trigger is not one clients can send to this process type."""

    def __init__(self, trigger: str, process_name: str, known: list[str]) -> None:
        super().__init__(
            f"{trigger!r} is not a trigger of {process_name}. "
            f"Clients can send: {', '.join(known)}."
        )


class TriggerNotAllowed(ServiceError):
    """The trigger exists but cannot fire from the current state."""

    def __init__(self, trigger: str, state: str, permitted: list[str], why_none: str = "") -> None:
        allowed = ", ".join(permitted) if permitted else f"nothing{why_none}"
        super().__init__(f"Cannot trigger {trigger} from {state}. Permitted now: {allowed}.")
        self.trigger = trigger
        self.state = state


class ProcessEnded(ServiceError):
    """The process is in a final state and its data can no longer change."""

    def __init__(self, state: str) -> None:
        super().__init__(f"The process has ended in {state}; its data can no longer change.")


class DataLocked(ServiceError):
    """Data of the current state that cannot be edited any more: a decision's answers, or what
    the system recorded."""

    def __init__(self, detail: str, fields: list[str]) -> None:
        super().__init__(detail)
        self.fields = fields


class PreconditionFailed(ServiceError):
    """The version the client last saw is not the stored one."""

    def __init__(self, expected: object, actual: int) -> None:
        if isinstance(expected, frozenset):
            expected = ", ".join(str(v) for v in sorted(expected))
        super().__init__(
            f"The version supplied ({expected}) does not match the current version ({actual})."
        )
        self.actual = actual


class Conflict(ServiceError):
    """Concurrent changes kept winning; the client should read the process again and retry."""


@dataclass(frozen=True)
class FieldError:
    """One field that failed validation, named by its path in the request body."""

    field: str
    message: str


class InvalidInput(ServiceError):
    """Part of the request is malformed (400) or fails the trigger's rules (422)."""

    def __init__(self, detail: str, errors: list[FieldError], *, unprocessable: bool) -> None:
        super().__init__(detail)
        self.errors = errors
        self.unprocessable = unprocessable


class InvalidPageToken(ServiceError):
    """The pagination token was not one this service issued."""

    def __init__(self) -> None:
        super().__init__("The paginationToken is not valid; use the nextToken of a previous page.")
