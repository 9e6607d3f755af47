"""What operators ask of the cases as a whole: the figures the metrics show, and the cases
whose automated step failed (to list them, and to retry them in bulk)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from machines.definition import ProcessDefinition
from machines.errors import ProcessNotFound, StaleProcess
from machines.ports import Dispatch, Repository
from services import automation
from services.context import Context
from services.errors import ServiceError


@dataclass
class CaseFigures:
    """What the store says about the cases now, for the metrics."""

    open_cases: dict[tuple[str, str], int] = field(default_factory=dict)
    """Cases in each (process name, non-final state)."""
    overdue: dict[str, int] = field(default_factory=dict)
    failed_steps: dict[str, int] = field(default_factory=dict)
    outbox_pending: dict[str, int] = field(default_factory=dict)
    """Follow-ups in outboxes by kind (task, event)."""
    outbox_oldest_seconds: float = 0.0


class Queries(Protocol):
    def count_in_states(self, states: Any) -> dict[tuple[str, str], int]: ...
    def overdue_by_process(self) -> dict[str, int]: ...
    def failed_steps_by_process(self) -> dict[str, int]: ...
    def failed_steps(
        self, process_name: str | None = None, limit: int = 500
    ) -> list[dict[str, Any]]: ...
    def outbox(self) -> tuple[dict[str, int], float]: ...


def case_figures(queries: Queries, definitions: Mapping[str, ProcessDefinition]) -> CaseFigures:
    """Open cases in each non-final state of every definition, overdue cases, failed steps and
    what waits in outboxes."""
    open_states = [
        (name, state)
        for name, definition in definitions.items()
        for state in definition.states
        if not definition.is_final(state)
    ]
    pending, oldest = queries.outbox()
    return CaseFigures(
        open_cases=queries.count_in_states(open_states),
        overdue=queries.overdue_by_process(),
        failed_steps=queries.failed_steps_by_process(),
        outbox_pending=pending,
        outbox_oldest_seconds=oldest,
    )


@dataclass(frozen=True)
class Retried:
    """One failed step asked to run again, or why it could not be."""

    process_id: str
    process_name: str
    state: str
    error: str | None = None


def retry_failed(
    queries: Queries,
    repo: Repository,
    ctx: Context,
    dispatch: Dispatch,
    *,
    process_name: str | None = None,
    limit: int = 500,
    apply: bool = False,
) -> list[Retried]:
    """Queue again the steps that failed (at most `limit`, longest waiting first); with
    `apply` False, only say which would be."""
    results = []
    for case in queries.failed_steps(process_name, limit):
        if not apply:
            results.append(Retried(case["id"], case["processName"], case["state"]))
            continue
        try:
            automation.retry(repo, case["processName"], case["id"], ctx, dispatch)
        except (ServiceError, StaleProcess, ProcessNotFound) as error:  # moved on meanwhile
            results.append(Retried(case["id"], case["processName"], case["state"], str(error)))
            continue
        results.append(Retried(case["id"], case["processName"], case["state"]))
    return results
