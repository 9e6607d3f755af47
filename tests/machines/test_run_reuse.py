"""`ProcessDefinition.run` and `permitted_triggers` go through the definition's one machine
class, on instances shared between callers: each must answer for any state, also after an
instance reached a final state or refused a trigger (found by the fault-injection tests), and
from many threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from statemachine.exceptions import TransitionNotAllowed

import machines

SCHEDULE = {"appointmentDateTime": "2030-06-01T10:30:00"}


def test_run_after_a_final_state_and_after_a_refusal() -> None:
    """A refusal or a final state reached before does not change what later calls answer."""
    audit = machines.get("tenancyaudit")
    assert audit is not None
    assert audit.run("VisitScheduled", "RecordVisit", {"tenantSeen": True}) == "AuditPassed"
    assert audit.run("TenureCheckInProgress", "TenureActive", {}) == "VisitScheduled"
    with pytest.raises(TransitionNotAllowed):
        audit.run("AuditPassed", "ScheduleVisit", SCHEDULE)
    assert audit.run("AuditRequested", "ScheduleVisit", SCHEDULE) == "TenureCheckInProgress"
    assert audit.run("TenureCheckInProgress", "TenureNotActive", {}) == "ProcessClosed"
    assert audit.run("NoAccess", "ScheduleVisit", SCHEDULE) == "TenureCheckInProgress"
    assert audit.permitted_triggers("NoAccess") == [
        "ScheduleVisit",
        "CloseProcess",
        "CancelProcess",
    ]


def test_run_answers_each_thread_for_its_own_state() -> None:
    """Threads firing triggers at the same time each get the target of their own source."""
    stj = machines.get("soletojoint")
    assert stj is not None
    cases = [
        (
            "ApplicationSubmitted",
            "TenureInvestigation",
            {"tenureInvestigationRecommendation": a},
            t,
        )
        for a, t in (
            ("approve", "TenureInvestigationPassed"),
            ("decline", "TenureInvestigationFailed"),
            ("appointment", "TenureInvestigationPassedWithInt"),
        )
    ] + [
        ("AutomatedChecksInProgress", "EligibilityFailed", {}, "AutomatedChecksFailed"),
        ("TenureUpdated", "CompleteProcess", {"hasNotifiedResident": True}, "ProcessCompleted"),
        ("ProcessClosed", "CancelProcess", {"comment": "again"}, TransitionNotAllowed),
    ]

    def fire(case: tuple) -> object:
        source, trigger, form, _ = case
        try:
            return stj.run(source, trigger, form)
        except TransitionNotAllowed:
            return TransitionNotAllowed

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(fire, cases * 200))
    assert answers == [case[3] for case in cases * 200]


def test_permitted_triggers_with_a_form_evaluate_its_branch_conditions() -> None:
    """Given the form, a decision none of whose branches it takes is not permitted; without
    one, every trigger leaving the state is."""
    stj = machines.get("soletojoint")
    assert stj is not None
    state = "ApplicationSubmitted"
    assert stj.permitted_triggers(state) == ["TenureInvestigation"]
    approve = {"tenureInvestigationRecommendation": "approve"}
    assert stj.permitted_triggers(state, approve) == ["TenureInvestigation"]
    unknown = {"tenureInvestigationRecommendation": "maybe"}
    assert stj.permitted_triggers(state, unknown) == []
    assert stj.permitted_triggers("NoSuchState") == []


@pytest.mark.parametrize("name", sorted(machines.registry()))
def test_every_transition_goes_where_the_library_engine_sends_it(name: str) -> None:
    """`run` answers unconditional moves from the machine's graph and sends decisions through
    the engine: for every trigger from every state, with every example form the definition
    has, it gives the engine's answer, or its refusal."""
    definition = machines.registry()[name]
    for state in definition.states:
        for trigger in definition.all_triggers:
            forms = [dict(trigger.example or {}), *map(dict, trigger.branch_examples.values())]
            for form in forms:
                engine = definition.machine(start_value=state)
                try:
                    engine.send(trigger.name, form=form)
                    expected: object = str(engine.model.state)
                except TransitionNotAllowed:
                    expected = TransitionNotAllowed
                try:
                    answered: object = definition.run(state, trigger.name, form)
                except TransitionNotAllowed:
                    answered = TransitionNotAllowed
                assert answered == expected, (state, trigger.name, form)
