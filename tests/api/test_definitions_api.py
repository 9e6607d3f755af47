"""The definitions API, live process diagrams, and the definition and migrate commands."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import machines
from api import create_app
from machines import tenancyaudit
from machines.definition import ProcessDefinition
from machines.validate import InvalidDefinitions
from services.automation import StepResult, complete_step
from services.context import Context
from storage.migrations import MigrationRepository
from tests.machines.test_validate import broken_definition, renamed
from tests.support import body_of, fire, start

DEFINITIONS = "/api/v1/process-definitions"
HAS_GRAPHVIZ = shutil.which("dot") is not None


def scheduled_audit(client, app) -> dict:  # type: ignore[no-untyped-def]
    """A tenancy audit whose visit is booked: its tenure check came back active."""
    process = start(client, "tenancyaudit")
    fire(client, process, "ScheduleVisit", {"appointmentDateTime": "2026-12-01T10:30:00"})
    repo = app.extensions["repository"]()
    stored = repo.get(process["id"])
    complete_step(
        repo, stored, stored.state, StepResult("TenureActive"), Context(), lambda *_: None
    )
    return body_of(client.get(f"/api/v1/process/tenancyaudit/{process['id']}"))


def test_list_names_every_definition_with_its_version(client):
    """The listing has one entry per registered definition, with version and client triggers."""
    response = client.get(DEFINITIONS)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["name"] for r in results] == list(machines.registry())
    audit = next(r for r in results if r["name"] == "tenancyaudit")
    assert audit["version"] == 1
    assert audit["targetType"] == "tenure"
    assert "ScheduleVisit" in audit["clientTriggers"]


@pytest.mark.parametrize("name", sorted(machines.registry()))
def test_definition_json_describes_states_triggers_and_forms(client, name: str):
    """States say which is initial and which are final; triggers give sources, targets, and for
    client triggers the formData schema and an example."""
    definition = machines.get(name)
    assert definition is not None
    response = client.get(f"{DEFINITIONS}/{name}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == definition.version
    assert body["defaultAssignments"] == {
        state: dict(fields) for state, fields in definition.default_assignments.items()
    }
    states = {s["name"]: s for s in body["states"]}
    assert list(states) == list(definition.states)
    assert states["ApplicationInitialised"]["initial"] is True
    assert {n for n, s in states.items() if s["final"]} == set(definition.final_states)
    triggers = {t["name"]: t for t in body["triggers"]}
    for trigger in definition.client_triggers.values():
        described = triggers[trigger.name]
        assert described["client"] is True
        assert described["sources"] == list(trigger.sources)
        assert described["targets"] == list(trigger.targets)
        assert described["formData"]["additionalProperties"] is False
        assert described["example"] == dict(trigger.example or {})
    assert body["clientTriggers"] == list(definition.client_triggers)
    assert body["onOverdue"] == dict(definition.on_overdue)


def test_tenancy_audit_json_shows_its_step_and_time_limit(client):
    """The tenancy audit's automated step, its outcomes and its time limit are published."""
    body = client.get(f"{DEFINITIONS}/tenancyaudit").get_json()
    assert body["automatedSteps"] == [
        {
            "state": "TenureCheckInProgress",
            "step": "check_tenure_active",
            "outcomes": ["TenureActive", "TenureNotActive"],
            "description": "",
        }
    ]
    assert body["timeLimitsDays"] == {"VisitScheduled": 28}
    kinds = {t["name"]: t["kind"] for t in body["triggers"]}
    assert kinds["TenureActive"] == "automated"
    assert kinds["ScheduleVisit"] == "client"


@pytest.mark.parametrize("name", sorted(machines.registry()))
def test_mermaid_is_a_state_diagram_naming_every_state(client, name: str):
    """format=mermaid answers text/plain Mermaid that names every state and client trigger."""
    response = client.get(f"{DEFINITIONS}/{name}?format=mermaid")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert text.startswith("stateDiagram-v2")
    definition = machines.get(name)
    assert definition is not None
    for state in definition.states:
        assert state in text, state
    for trigger in definition.client_triggers:
        assert f": {trigger}" in text, trigger


def test_svg_is_drawn_when_graphviz_is_installed(client):
    """format=svg gives an SVG when `dot` is on PATH, and a 501 problem saying so otherwise."""
    response = client.get(f"{DEFINITIONS}/tenancyaudit?format=svg")
    if HAS_GRAPHVIZ:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert b"<svg" in response.data
        assert b"ScheduleVisit" in response.data
    else:
        assert response.status_code == 501
        assert response.mimetype == "application/problem+json"


def test_svg_without_graphviz_is_a_501_problem(client, monkeypatch):
    """With no `dot` on PATH the answer is 501 problem+json saying Graphviz is not installed."""
    monkeypatch.setenv("PATH", "/nonexistent")
    response = client.get(f"{DEFINITIONS}/tenancyaudit?format=svg")
    assert response.status_code == 501
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith(":graphviz-not-installed")
    assert "Graphviz is not installed" in problem["detail"]


def test_unknown_format_is_a_400(client):
    """A format other than json, mermaid, svg or dot is refused."""
    response = client.get(f"{DEFINITIONS}/tenancyaudit?format=pdf")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "format"
    assert client.get(f"{DEFINITIONS}?format=mermaid").status_code == 400


def test_unknown_definition_is_a_404(client):
    """A process name nobody defined is not found, as elsewhere in the API."""
    response = client.get(f"{DEFINITIONS}/nosuchprocess")
    assert response.status_code == 404
    assert response.get_json()["type"].endswith(":unknown-process-name")


def test_live_diagram_highlights_current_state_and_path(client, app):
    """A process's diagram marks its current state and the states it passed through."""
    process = scheduled_audit(client, app)
    url = f"/api/v1/process/tenancyaudit/{process['id']}/diagram"
    response = client.get(f"{url}?format=mermaid")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("stateDiagram-v2")
    assert "    class VisitScheduled current" in text
    assert "    class ApplicationInitialised,AuditRequested,TenureCheckInProgress visited" in text
    assert "classDef current" in text

    body = client.get(url).get_json()
    assert body["currentState"] == "VisitScheduled"
    assert body["path"] == [s["state"] for s in process["processStates"]]
    svg = client.get(f"{url}?format=svg")
    if HAS_GRAPHVIZ:
        assert svg.status_code == 200
        assert b"#ffd54f" in svg.data
    else:
        assert svg.status_code == 501


def test_live_diagram_of_unknown_process_is_a_404(client):
    """An id no process has, or a process name nobody defined, is not found; a bad id is 400."""
    missing = client.get(f"/api/v1/process/tenancyaudit/{uuid.uuid4()}/diagram")
    assert missing.status_code == 404
    assert client.get(f"/api/v1/process/nosuch/{uuid.uuid4()}/diagram").status_code == 404
    assert client.get("/api/v1/process/tenancyaudit/not-a-uuid/diagram").status_code == 400


def test_openapi_lists_the_definition_endpoints(client):
    """The endpoints are in the published OpenAPI document."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/process-definitions" in paths
    assert "/api/v1/process-definitions/{process_name}" in paths
    assert "/api/v1/process/{process_name}/{process_id}/diagram" in paths


def test_cli_show_prints_states_and_triggers(app):
    """`definition show` prints a table of states and one of triggers with their guards."""
    result = app.test_cli_runner().invoke(args=["definition", "show", "soletojoint"])
    assert result.exit_code == 0, result.output
    assert "TenureUpdateInProgress" in result.output
    assert "CheckManualEligibility" in result.output
    assert "manual_checks_pass" in result.output


def test_cli_draw_writes_mermaid_and_needs_graphviz_for_images(app, tmp_path, monkeypatch):
    """`definition draw` writes Mermaid to a file; an image without Graphviz is a clear error."""
    runner = app.test_cli_runner()
    out = tmp_path / "audit.mmd"
    result = runner.invoke(args=["definition", "draw", "tenancyaudit", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("stateDiagram-v2")
    monkeypatch.setenv("PATH", "/nonexistent")
    result = runner.invoke(
        args=["definition", "draw", "tenancyaudit", "--format", "png", "-o", str(tmp_path / "a")]
    )
    assert result.exit_code == 1
    assert "Graphviz is not installed" in result.output


def test_cli_validate_passes_the_real_definitions(app):
    """`definition validate` exits 0 for the registered definitions and an empty store."""
    result = app.test_cli_runner().invoke(args=["definition", "validate"])
    assert result.exit_code == 0, result.output
    assert "tenancyaudit v1: ok" in result.output
    assert "Stored processes: checked 0" in result.output


def test_cli_validate_lists_problems_and_exits_1(app, monkeypatch):
    """A broken definition in the registry makes `definition validate` list it and exit 1."""
    monkeypatch.setitem(machines.registry(), "broken", broken_definition())
    result = app.test_cli_runner().invoke(args=["definition", "validate", "--skip-store"])
    assert result.exit_code == 1
    assert "broken v1: " in result.output
    assert "[unreachable-state] Orphan cannot be reached" in result.output
    assert "not checked (--skip-store)" in result.output


def test_api_refuses_to_start_with_an_invalid_definition(monkeypatch):
    """create_app raises while a registered definition has a problem, listing it."""
    late = dataclasses.replace(
        tenancyaudit.definition,
        name="lateaudit",
        time_limits_days={"VisitScheduled": 28, "ProcessClosed": 5},
    )
    monkeypatch.setitem(machines.registry(), "lateaudit", late)
    with pytest.raises(InvalidDefinitions) as raised:
        create_app({"TESTING": True}, dispatch=lambda *_: None)
    assert "lateaudit: [time-limit-on-final-state] ProcessClosed is final" in str(raised.value)


def test_workers_refuse_to_start_with_an_invalid_definition():
    """Importing the Celery app, as the worker and beat do first, fails on a broken
    definition and names its problems."""
    script = (
        "import machines\n"
        "from tests.machines.test_validate import broken_definition\n"
        "machines.registry()['broken'] = broken_definition()\n"
        "import workers.app\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "InvalidDefinitions" in result.stderr
    assert "broken: [unreachable-state] Orphan cannot be reached" in result.stderr


def version_two(monkeypatch) -> ProcessDefinition:  # type: ignore[no-untyped-def]
    """Change the tenancy audit as a developer would: NoAccess becomes AccessRefused in
    version 2, with a migration from version 1."""
    v2 = renamed(tenancyaudit.definition, "NoAccess", "AccessRefused", version=2)
    monkeypatch.setattr(tenancyaudit, "definition", v2)
    monkeypatch.setattr(
        tenancyaudit,
        "migrations",
        {1: lambda state: "AccessRefused" if state == "NoAccess" else state},
        raising=False,
    )
    monkeypatch.setitem(machines.registry(), "tenancyaudit", v2)
    return v2


def test_migration_moves_stored_processes_to_the_new_version(client, app, db, monkeypatch):
    """Validate reports the processes a new version strands; a dry run writes nothing; the
    migration moves them, records `Migrated` on each and bumps definitionVersion."""
    no_access = scheduled_audit(client, app)
    assert fire(client, no_access, "RecordNoAccess", {}).status_code == 200
    requested = start(client, "tenancyaudit")
    other = start(client, "changeofname", targetType="person")
    version_two(monkeypatch)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["definition", "validate"])
    assert result.exit_code == 1
    assert "[stranded-state] 1 stored process at version 1 is in NoAccess" in result.output
    assert "migrate tenancyaudit --from-version 1 --apply" in result.output

    result = runner.invoke(args=["migrate", "tenancyaudit", "--from-version", "1", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Checking 2 process(es)" in result.output
    assert "NoAccess -> AccessRefused: 1" in result.output
    assert "Nothing was written" in result.output
    assert _get(client, no_access)["definitionVersion"] == 1

    result = runner.invoke(args=["migrate", "tenancyaudit", "--from-version", "1", "--apply"])
    assert result.exit_code == 0, result.output
    assert "Migrating 2 process(es)" in result.output
    assert "2 process(es) moved from version 1 to 2" in result.output

    moved = _get(client, no_access)
    assert moved["definitionVersion"] == 2
    assert moved["currentState"]["state"] == "AccessRefused"
    assert moved["currentState"]["permittedTriggers"] == [
        "ScheduleVisit",
        "CloseProcess",
        "CancelProcess",
    ]
    assert [s["state"] for s in moved["processStates"]][-2:] == ["VisitScheduled", "AccessRefused"]
    migrated = moved["activity"][-1]
    assert migrated["kind"] == "Migrated"
    assert migrated["details"] == {
        "fromVersion": 1,
        "toVersion": 2,
        "fromState": "NoAccess",
        "toState": "AccessRefused",
    }
    untouched_state = _get(client, requested)
    assert untouched_state["definitionVersion"] == 2
    assert untouched_state["currentState"]["state"] == "AuditRequested"
    assert untouched_state["activity"][-1]["kind"] == "Migrated"
    assert _get(client, other)["definitionVersion"] == 1
    assert _get(client, other)["activity"] == []

    assert fire(client, moved, "CloseProcess", {"hasNotifiedResident": True}).status_code == 200
    result = runner.invoke(args=["migrate", "tenancyaudit", "--from-version", "1", "--apply"])
    assert "0 process(es) moved" in result.output
    assert runner.invoke(args=["definition", "validate"]).exit_code == 0
    assert MigrationRepository(db).ids_at_version("tenancyaudit", 1) == []


def test_migration_queues_again_the_step_a_process_waits_for(client, app, dispatched, monkeypatch):
    """A step queued before the migration is stale afterwards (the version moved on), so a
    process waiting at an automated step gets it queued again for its new version."""
    process = start(client, "tenancyaudit")
    fire(client, process, "ScheduleVisit", {"appointmentDateTime": "2026-12-01T10:30:00"})
    version_two(monkeypatch)
    result = app.test_cli_runner().invoke(
        args=["migrate", "tenancyaudit", "--from-version", "1", "--apply"]
    )
    assert result.exit_code == 0, result.output
    tasks = [f for f in dispatched.for_process(process["id"]) if f.kind == "task"]
    assert [t.name for t in tasks] == ["check_tenure_active", "check_tenure_active"]
    moved = _get(client, process)
    assert tasks[-1].payload["version"] == moved["version"]
    assert moved["currentState"]["automation"]["status"] == "queued"


def test_migration_leaves_processes_it_cannot_place(client, app, monkeypatch):
    """A state the migration maps nowhere valid is skipped, reported, and left unchanged."""
    stuck = scheduled_audit(client, app)
    fire(client, stuck, "RecordNoAccess", {})
    version_two(monkeypatch)
    monkeypatch.setattr(tenancyaudit, "migrations", {1: lambda state: state}, raising=False)
    result = app.test_cli_runner().invoke(
        args=["migrate", "tenancyaudit", "--from-version", "1", "--apply"]
    )
    assert result.exit_code == 1
    assert "NoAccess is not a state of version 2" in result.output
    assert _get(client, stuck)["definitionVersion"] == 1


def test_migration_from_the_current_version_is_refused(app, monkeypatch):
    """There is nothing to migrate from the version the definition is at; the refusal says
    so plainly, with what to do, and no impossible range such as "1 to 0"."""
    result = app.test_cli_runner().invoke(args=["migrate", "tenancyaudit", "--from-version", "1"])
    assert result.exit_code == 1
    assert "already current: there is no earlier version to migrate from yet" in result.output
    assert "Raise its `version`" in result.output
    assert "1 to 0" not in result.output


def _get(client, process: dict) -> dict:  # type: ignore[no-untyped-def]
    return body_of(client.get(f"/api/v1/process/{process['processName']}/{process['id']}"))


def test_definitions_are_unchanged_by_these_tests():
    """The monkeypatched version 2 never outlives its test."""
    assert tenancyaudit.definition.version == 1
    assert machines.registry()["tenancyaudit"] is tenancyaudit.definition
