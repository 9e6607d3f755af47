"""Definition checks and version compatibility, without any I/O."""

from __future__ import annotations

import dataclasses
import re

import pytest
from statemachine.exceptions import InvalidDefinition

import machines
from machines import describe, tenancyaudit, validate
from machines.definition import (
    AutomatedStep,
    Branch,
    ProcessDefinition,
    Trigger,
    build_machine,
    move,
    outcome,
)
from machines.forms import TEXT, TRUE, form
from machines.steps import registered
from machines.validate import StoredUse
from services.forms import format_checker

DEFINITIONS = [pytest.param(d, id=name) for name, d in sorted(machines.registry().items())]


def broken_definition() -> ProcessDefinition:
    """A definition with one of each mistake `problems` should report."""
    return ProcessDefinition(
        name="broken",
        title="Broken",
        target_type="tenure",
        version=1,
        first_state="Open",
        triggers=(
            move("Close", "Open", "Closed", form({}, {"reason": TEXT})),
            move("Review", "Orphan", "Closed", form({"ok": TRUE}), {"ok": "maybe"}),
            move("Loosen", "Open", "Loose", {"type": "object"}, {}),
            Trigger("Bare", ("Open",), (Branch("Closed"),), {}, {}),
            Trigger("Unexampled", ("Open",), (Branch("Closed"),), form({"a": TEXT}), None),
            outcome("Nudge", "Open", "Stuck"),
            move("Check", "Loose", "Checking", form()),
            outcome("Checked", "Checking", "Loose"),
            move("Poke", "Checking", "Loose", form()),
            move("Circle", "Loose", "Around", form()),
            move("Back", "Around", "Loose", form()),
        ),
        final_states=("Closed",),
        automated_steps=(AutomatedStep("Checking", "no_such_step", ("Checked", "Close")),),
        time_limits_days={"Nowhere": 3},
        on_overdue={"Open": "Close"},
    )


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_registered_definitions_have_no_problems(definition: ProcessDefinition):
    """Every process in the registry passes every check."""
    assert validate.problems(definition, registered(), format_checker=format_checker) == []


def test_broken_definition_reports_each_mistake():
    """Each deliberate mistake is reported under its code, naming what it is about."""
    found = {
        (p.code, p.subject)
        for p in validate.problems(
            broken_definition(), registered(), format_checker=format_checker
        )
    }
    assert {
        ("unreachable-state", "Orphan"),
        ("no-way-out", "Stuck"),
        ("cannot-finish", "Loose"),
        ("cannot-finish", "Around"),
        ("missing-schema", "Bare"),
        ("missing-example", "Unexampled"),
        ("example-fails-schema", "Review"),
        ("schema-accepts-unknown-keys", "Loosen"),
        ("unfired-trigger", "Nudge"),
        ("missing-step", "no_such_step"),
        ("bad-outcome", "Close"),
        ("client-trigger-in-automated-state", "Poke"),
        ("unknown-state", "Nowhere"),
        ("overdue-without-time-limit", "Open"),
    } <= found


def planted(**changes: object) -> ProcessDefinition:
    """The tenancy audit with one mistake planted in it."""
    return dataclasses.replace(tenancyaudit.definition, **changes)  # type: ignore[arg-type]


AUDIT = tenancyaudit.definition


def with_triggers(*triggers: Trigger) -> tuple[Trigger, ...]:
    """The audit's triggers, each replaced by the one of the same name given, or added."""
    given = {t.name: t for t in triggers}
    kept = tuple(given.pop(t.name, t) for t in AUDIT.triggers)
    return (*kept, *given.values())


PLANTED = [
    pytest.param(
        {"time_limits_days": {"VisitScheduled": 28, "ProcessClosed": 5}},
        "time-limit-on-final-state",
        "ProcessClosed",
        "ProcessClosed is final",
        id="time-limit-on-final-state",
    ),
    pytest.param(
        {"default_assignments": {"AuditPassed": {"team": "auditors"}}},
        "assignment-on-final-state",
        "AuditPassed",
        "AuditPassed is final",
        id="assignment-on-final-state",
    ),
    pytest.param(
        {
            "time_limits_days": {"VisitScheduled": 28, "ProcessCancelled": 5},
            "on_overdue": {"ProcessCancelled": "TenureNotActive"},
        },
        "overdue-on-final-state",
        "ProcessCancelled",
        "ProcessCancelled is final",
        id="overdue-on-final-state",
    ),
    pytest.param(
        {"time_limits_days": {"VisitSchedueld": 28}},
        "unknown-state",
        "VisitSchedueld",
        "Did you mean VisitScheduled?",
        id="misspelt-state-in-time-limits",
    ),
    pytest.param(
        {"default_assignments": {"NoAcess": {"team": "auditors"}}},
        "unknown-state",
        "NoAcess",
        "Did you mean NoAccess?",
        id="misspelt-state-in-assignments",
    ),
    pytest.param(
        {"triggers": with_triggers(move("RecordVisit", "VisitScheduled", "AuditPased", form()))},
        "no-way-out",
        "AuditPased",
        "Did you mean AuditPassed?",
        id="misspelt-target-state",
    ),
    pytest.param(
        {
            "automated_steps": (
                AutomatedStep(
                    "TenureCheckInProgress",
                    "check_tenure_active",
                    ("TenureActiv", "TenureNotActive"),
                ),
            )
        },
        "bad-outcome",
        "TenureActiv",
        "Did you mean TenureActive?",
        id="misspelt-outcome-trigger",
    ),
    pytest.param(
        {
            "automated_steps": (
                AutomatedStep("TenureCheckInProgress", "check_tenure_activ", tenancyaudit.CHECKED),
            )
        },
        "missing-step",
        "check_tenure_activ",
        "Did you mean check_tenure_active?",
        id="misspelt-step",
    ),
    pytest.param(
        {
            "triggers": with_triggers(outcome("GiveUp", "NoAccess", "ProcessClosed")),
            "time_limits_days": {"VisitScheduled": 28, "NoAccess": 14},
            "on_overdue": {"NoAccess": "GiveUo"},
        },
        "bad-overdue-trigger",
        "GiveUo",
        "Did you mean GiveUp?",
        id="misspelt-overdue-trigger",
    ),
    pytest.param(
        {"triggers": with_triggers(move("Reopen", "AuditPassed", "VisitScheduled", form()))},
        "final-state-has-exits",
        "AuditPassed",
        "AuditPassed is final but triggers leave it",
        id="final-state-has-exits",
    ),
    pytest.param(
        {"triggers": with_triggers(move("send", "NoAccess", "ProcessClosed", form()))},
        "bad-trigger-name",
        "send",
        "use PascalCase",
        id="bad-trigger-name",
    ),
    pytest.param(
        {"triggers": with_triggers(move("RecordNoAccess", "VisitScheduled", "no access", form()))},
        "bad-state-name",
        "no access",
        "use PascalCase",
        id="bad-state-name",
    ),
    pytest.param(
        {"triggers": (*AUDIT.triggers, move("ScheduleVisit", "NoAccess", "NoAccess", form()))},
        "duplicate-trigger",
        "ScheduleVisit",
        "Two triggers are called ScheduleVisit",
        id="duplicate-trigger",
    ),
    pytest.param(
        {
            "triggers": with_triggers(
                move("RecordNoAccess", "VisitScheduled", "NoAccess", {"type": 7})
            )
        },
        "invalid-schema",
        "RecordNoAccess",
        "not a valid JSON Schema",
        id="invalid-schema",
    ),
    pytest.param(
        {
            "triggers": with_triggers(
                Trigger(
                    "RecordNoAccess",
                    ("VisitScheduled",),
                    (Branch("NoAccess", "is_ready"),),  # type: ignore[arg-type]
                    form(),
                    {},
                )
            )
        },
        "invalid-machine",
        "tenancyaudit",
        "python-statemachine refuses it",
        id="invalid-machine",
    ),
    pytest.param(
        {"senders": ()},
        "undeclared-senders",
        "RecordVisit",
        "Nobody is named as allowed to send RecordVisit",
        id="undeclared-senders",
    ),
]


@pytest.mark.parametrize(("changes", "code", "subject", "fragment"), PLANTED)
def test_planted_mistake_is_reported_under_its_code(
    changes: dict[str, object], code: str, subject: str, fragment: str
):
    """Each planted mistake is reported under its own code, naming what it is about, and a
    misspelt name comes with the near one."""
    found = validate.problems(planted(**changes), registered(), format_checker=format_checker)
    matching = [p for p in found if (p.code, p.subject) == (code, subject)]
    assert matching, found
    assert fragment in matching[0].message


def test_every_graph_problem_is_reported_not_only_the_first():
    """python-statemachine refuses the class for its first failing check; validation names
    every state that each of its checks refuses."""
    with pytest.raises(InvalidDefinition, match="unreachable states"):
        build_machine(broken_definition())
    found = {(p.code, p.subject) for p in validate.problems(broken_definition())}
    assert {
        ("unreachable-state", "Orphan"),
        ("no-way-out", "Stuck"),
        ("cannot-finish", "Loose"),
    } <= found


def test_check_registry_passes_the_registered_definitions():
    """The registry as shipped has nothing wrong, so the API and the workers start."""
    validate.check_registry(registered(), format_checker=format_checker)


def test_check_registry_lists_every_problem(monkeypatch: pytest.MonkeyPatch):
    """A broken definition in the registry makes the check raise, listing each problem."""
    late = planted(name="lateaudit", time_limits_days={"VisitScheduled": 28, "ProcessClosed": 5})
    monkeypatch.setitem(machines.registry(), "lateaudit", late)
    monkeypatch.setitem(machines.registry(), "broken", broken_definition())
    with pytest.raises(validate.InvalidDefinitions) as raised:
        validate.check_registry(registered(), format_checker=format_checker)
    message = str(raised.value)
    assert "lateaudit: [time-limit-on-final-state] ProcessClosed is final" in message
    assert "broken: [unreachable-state] Orphan cannot be reached" in message
    assert "broken: [missing-step]" in message
    assert len(raised.value.problems) == message.count("\n")


def test_problem_reads_as_a_line_of_the_listing():
    """A problem prints as `process: [code] message`."""
    problem = validate.Problem("broken", "no-way-out", "Stuck", "Stuck is not final.")
    assert str(problem) == "broken: [no-way-out] Stuck is not final."


def test_step_names_are_not_checked_without_a_registry():
    """Without the step registry, step names are taken on trust."""
    found = {p.code for p in validate.problems(broken_definition())}
    assert "missing-step" not in found


def test_migration_from_an_impossible_version_is_reported():
    """A migration must start from a version before the definition's own."""
    definition = tenancyaudit.definition
    found = validate.problems(definition, registered(), migrations={definition.version: str.upper})
    assert [(p.code, p.subject) for p in found] == [("bad-migration", str(definition.version))]


def renamed(definition: ProcessDefinition, old: str, new: str, version: int) -> ProcessDefinition:
    """`definition` at `version` with state `old` called `new`."""

    def name(state: str) -> str:
        return new if state == old else state

    triggers = tuple(
        dataclasses.replace(
            t,
            sources=tuple(name(s) for s in t.sources),
            branches=tuple(dataclasses.replace(b, target=name(b.target)) for b in t.branches),
        )
        for t in definition.triggers
    )
    return dataclasses.replace(
        definition,
        version=version,
        triggers=triggers,
        final_states=tuple(name(s) for s in definition.final_states),
        time_limits_days={name(s): d for s, d in definition.time_limits_days.items()},
    )


def use(state: str, *triggers: str, version: int = 1, step: str | None = None, count: int = 2):
    return StoredUse("tenancyaudit", version, state, triggers, step, count)


def test_unchanged_definition_strands_nothing():
    """Stored processes in the definition's own states, offered its own triggers, are fine."""
    definition = tenancyaudit.definition
    uses = [use(state, *definition.permitted_triggers(state)) for state in definition.states] + [
        use("TenureCheckInProgress", step="check_tenure_active")
    ]
    assert validate.stranded(definition, uses, {}) == []


def test_renamed_state_strands_processes_in_it_and_names_the_migration():
    """Processes in a state the new version lacks are reported, with the command that moves
    them when a migration maps the state."""
    v2 = renamed(tenancyaudit.definition, "NoAccess", "AccessRefused", version=2)
    uses = [use("NoAccess", "ScheduleVisit"), use("AuditRequested", "ScheduleVisit")]
    unmigrated = validate.stranded(v2, uses, {})
    assert [(p.code, p.subject) for p in unmigrated] == [("stranded-state", "NoAccess")]
    assert "2 stored processes at version 1 are in NoAccess" in unmigrated[0].message
    assert "does not have either" in unmigrated[0].message

    migrations = {1: lambda state: {"NoAccess": "AccessRefused"}.get(state, state)}
    (problem,) = validate.stranded(v2, uses, migrations)
    assert "maps NoAccess to AccessRefused" in problem.message
    assert "flask --app api migrate tenancyaudit --from-version 1 --apply" in problem.message


def test_removed_and_moved_triggers_and_steps_are_reported():
    """Offered triggers the definition dropped or no longer allows there, and automated steps
    it no longer runs, are reported; a change without a new version says to make one."""
    definition = tenancyaudit.definition
    uses = [
        use("VisitScheduled", "RecordVisit", "RescheduleVisit", count=1),
        use("AuditRequested", "RecordVisit"),
        use("TenureCheckInProgress", step="check_tenure_still_active"),
    ]
    found = validate.stranded(definition, uses, {})
    assert [(p.code, p.subject) for p in found] == [
        ("removed-trigger", "RescheduleVisit"),
        ("trigger-no-longer-permitted", "RecordVisit"),
        ("removed-step", "check_tenure_still_active"),
    ]
    assert found[0].message.startswith("1 stored process at version 1 in VisitScheduled was ")
    assert "needs a new version" in found[0].message


def test_stranded_names_come_with_the_near_name_the_definition_has():
    """A stored state or trigger the definition lacks is reported with the near one it has."""
    v2 = renamed(tenancyaudit.definition, "VisitScheduled", "VisitsScheduled", version=2)
    found = validate.stranded(v2, [use("VisitScheduled", "RecordVisits")], {})
    assert [(p.code, p.subject) for p in found] == [("stranded-state", "VisitScheduled")]
    assert "Did you mean VisitsScheduled?" in found[0].message
    found = validate.stranded(tenancyaudit.definition, [use("VisitScheduled", "RecordVisits")], {})
    assert [(p.code, p.subject) for p in found] == [("removed-trigger", "RecordVisits")]
    assert "Did you mean RecordVisit?" in found[0].message


def test_processes_from_a_newer_version_are_reported():
    """Processes started under a later version than the code has are reported."""
    found = validate.stranded(tenancyaudit.definition, [use("AuditRequested", version=3)], {})
    assert [p.code for p in found] == ["newer-version-stored"]


def test_other_process_types_are_ignored():
    """Only stored processes of the definition's own type are compared with it."""
    other = StoredUse("changeofname", 1, "EnterNewName", ("EnterNewName",), None, 5)
    assert validate.stranded(tenancyaudit.definition, [other], {}) == []


def test_migrate_state_chains_versions_and_keeps_unmapped_states():
    """Each version's migration applies in turn; a version without one keeps its states."""
    migrations = {1: lambda s: s + "-2", 3: lambda s: s + "-4"}
    assert validate.migrate_state(migrations, 1, 4, "A") == "A-2-4"
    assert validate.migrate_state(migrations, 2, 4, "A") == "A-4"
    assert validate.migrate_state(migrations, 4, 4, "A") == "A"


def test_declared_migrations_come_from_the_definition_module():
    """Migrations are read from the module that defines the definition; none by default."""
    assert validate.declared_migrations(tenancyaudit.definition) == {}
    assert validate.declared_migrations(broken_definition()) == {}


def test_describe_names_trigger_kinds_and_guards():
    """The description says who sends each trigger and which guards choose its branches."""
    stj = machines.get("soletojoint")
    assert stj is not None
    triggers = {t["name"]: t for t in describe.describe(stj)["triggers"]}
    assert triggers["StartApplication"]["kind"] == "start"
    assert triggers["EligibilityPassed"]["kind"] == "automated"
    assert triggers["CloseInactiveProcess"]["kind"] == "deadline"
    assert triggers["CheckManualEligibility"]["branches"] == [
        {"target": "ManualChecksPassed", "condition": "manual_checks_pass"},
        {"target": "ManualChecksFailed", "condition": "otherwise"},
    ]
    assert triggers["CheckAutomatedEligibility"]["requires"][0]["check"] == "has_tenant"


def test_mermaid_labels_show_triggers_and_guards():
    """Arrows carry the trigger's name, its guards in brackets, and who fires internal ones."""
    stj = machines.get("soletojoint")
    assert stj is not None
    text = describe.mermaid(stj)
    assert (
        "AutomatedChecksPassed --> ManualChecksPassed : CheckManualEligibility "
        "[manual_checks_pass]" in text
    )
    assert (
        "AutomatedChecksInProgress --> AutomatedChecksPassed : EligibilityPassed "
        "(automated)" in text
    )
    assert "CloseInactiveProcess (after 30 days)" in text


def dot_statements(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """The attribute lists of a DOT text's nodes, by name, and its edges with theirs."""
    nodes = dict(re.findall(r"^(\w+) \[(.*)\];$", text, re.MULTILINE))
    edges = re.findall(r"^(\w+) -> (\w+) \[(.*)\];$", text, re.MULTILINE)
    return nodes, edges


def test_dot_marks_current_state_and_path():
    """The DOT text fills the current state and the states passed through."""
    text = describe.dot(
        tenancyaudit.definition,
        current="VisitScheduled",
        visited=["ApplicationInitialised", "AuditRequested", "TenureCheckInProgress"],
    )
    assert text.startswith("digraph tenancyaudit {")
    nodes, _ = dot_statements(text)
    assert 'fillcolor="#ffd54f"' in nodes["VisitScheduled"]
    assert 'fillcolor="#c8e6c9"' in nodes["AuditRequested"]
    assert "fillcolor=white" in nodes["NoAccess"]


def test_dot_styles_automated_and_final_states_and_marks_edges_no_client_sends():
    """Automated and final states are styled, notes give a state's step and time limit, and
    arrows fired by the engine, a worker or a time limit are dashed while client ones are not."""
    stj = machines.get("soletojoint")
    assert stj is not None
    nodes, edges = dot_statements(describe.dot(stj))
    assert 'fillcolor="#e3f2fd"' in nodes["AutomatedChecksInProgress"]
    assert "automated step check_sole_to_joint_eligibility" in nodes["AutomatedChecksInProgress"]
    assert 'fillcolor="#eeeeee"' in nodes["ProcessClosed"]
    assert "time limit 30 days, then CloseInactiveProcess" in nodes["BreachChecksFailed"]
    dashed = {(source, target) for source, target, attributes in edges if "dashed" in attributes}
    assert ("AutomatedChecksInProgress", "AutomatedChecksPassed") in dashed
    assert ("ApplicationInitialised", "SelectTenants") in dashed
    assert ("AutomatedChecksPassed", "ManualChecksPassed") not in dashed
    closing = sorted(
        ("dashed" in attributes, "CloseInactiveProcess" in attributes)
        for source, target, attributes in edges
        if (source, target) == ("BreachChecksFailed", "ProcessClosed")
    )
    assert closing == [(False, False), (True, True)]  # CloseProcess, CloseInactiveProcess


def test_mermaid_notes_each_states_step_and_time_limit():
    """A state with an automated step or a time limit says so beside its name in Mermaid."""
    text = describe.mermaid(tenancyaudit.definition)
    assert (
        '    state "TenureCheckInProgress (automated step check_tenure_active)" as '
        "TenureCheckInProgress" in text
    )
    assert '    state "VisitScheduled (time limit 28 days)" as VisitScheduled' in text
    assert "    class TenureCheckInProgress automated" in text
    assert "    class AuditPassed,BreachReferred,ProcessClosed,ProcessCancelled final" in text
