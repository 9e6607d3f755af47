"""The retry policy of automated steps, run eagerly (no broker): failures of the services a step
calls are retried STEP_MAX_RETRIES times and then recorded; a database that does not answer is
waited for without spending those retries, and the step is never dropped (fault injection found
steps lost both ways: Celery's default limit of 3 retries cut in before STEP_MAX_RETRIES=5, and
a database outage used up the retries and then could not record the failure). The follow-up
leaves its outbox only when the step is done."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from machines.ports import ServiceUnavailable
from settings import from_env
from workers import tasks

PAYLOAD = {"processId": "p", "processName": "soletojoint", "state": "S", "version": 1}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Step runs fail as `calls["errors"]` says (then succeed); recorded failures are kept."""
    seen: dict[str, Any] = {"runs": 0, "errors": [], "recorded": [], "done": []}
    config = replace(from_env(), step_max_retries=5, retry_base_seconds=0, retry_max_seconds=0)
    monkeypatch.setattr(tasks.wiring, "settings", lambda: config)

    def remove_follow_ups(process_id: str, ids: list[str]) -> None:
        seen["done"].extend(f"{process_id}/{i}" for i in ids)

    repo = SimpleNamespace(remove_follow_ups=remove_follow_ups)
    monkeypatch.setattr(tasks.wiring, "processes", lambda: repo)
    monkeypatch.setattr(tasks.wiring, "ports", lambda: None)

    def run_step(*args: Any) -> None:
        seen["runs"] += 1
        if seen["errors"]:
            raise seen["errors"].pop(0)

    def record_failure(repo: Any, payload: Any, reason: str, *args: Any) -> None:
        seen["recorded"].append(reason)

    monkeypatch.setattr(tasks.automation, "run_step", run_step)
    monkeypatch.setattr(tasks.automation, "record_failure", record_failure)
    return seen


def test_service_failures_are_retried_step_max_retries_times_then_recorded(calls) -> None:  # type: ignore[no-untyped-def]
    calls["errors"] = [ServiceUnavailable("Tenure API: 503")] * 10
    tasks.run_step.apply(args=["check", PAYLOAD], task_id="follow-up-1")
    assert calls["runs"] == 6
    assert calls["recorded"] == ["Gave up after 6 attempts: Tenure API: 503"]
    assert calls["done"] == ["p/follow-up-1"]  # taken out of the outbox once, when recorded


def test_a_database_outage_is_waited_for_without_spending_retries(calls) -> None:  # type: ignore[no-untyped-def]
    down = ServerSelectionTimeoutError("127.0.0.1:27017: connection refused")
    calls["errors"] = [down] * 12 + [ServiceUnavailable("Tenure API: 503")] * 2
    tasks.run_step.apply(args=["check", PAYLOAD], task_id="follow-up-2")
    assert calls["runs"] == 15
    assert calls["recorded"] == []
    assert calls["done"] == ["p/follow-up-2"]


def test_the_outbox_sweep_waits_while_the_queue_has_a_backlog(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Follow-ups in outboxes during a backlog are most likely queued: no copies are sent."""
    swept: list[object] = []
    monkeypatch.setattr(tasks.outbox, "sweep", lambda *args: swept.append(args) or 7)
    monkeypatch.setattr(tasks.wiring, "processes", lambda: None)
    monkeypatch.setattr(tasks, "queued_messages", lambda: tasks.SWEEP_BACKLOG_LIMIT + 1)
    assert tasks.sweep_outbox.apply().get() == 0
    assert swept == []
    monkeypatch.setattr(tasks, "queued_messages", lambda: 3)
    assert tasks.sweep_outbox.apply().get() == 7
    assert len(swept) == 1
