"""Who may send a trigger is declared with its definition, so no trigger is open to all by
omission; configuration can only narrow it."""

from __future__ import annotations

import pytest

from machines import stages
from machines.definition import ProcessDefinition, move
from machines.forms import form
from services.authorisation import Forbidden, Policy
from settings import from_env

OFFICER = frozenset({"housing-officers", "*"})
MANAGER = frozenset({"area-managers", "*"})


def renamed_approval() -> ProcessDefinition:
    """A process whose approval is called something other than HOApproval."""
    return ProcessDefinition(
        name="succession",
        title="Tenancy succession",
        target_type="tenure",
        version=1,
        first_state="Assessed",
        triggers=(
            stages.approval(["Assessed"], "Granted", "Refused", name="SuccessionDecision"),
            move("Note", "Assessed", "Assessed", form()),
            stages.close(["Refused"]),
        ),
        final_states=("Granted", stages.CLOSED),
        senders=stages.OFFICERS,
    )


def test_an_approval_under_another_name_is_still_for_area_managers_only():
    """The shared approval declares its senders: renamed, it does not fall open to officers."""
    policy = Policy.from_file(from_env().auth_policy_file)
    definition = renamed_approval()
    with pytest.raises(Forbidden):
        policy.check_trigger(OFFICER, definition, "SuccessionDecision")
    policy.check_trigger(MANAGER, definition, "SuccessionDecision")
    policy.check_trigger(OFFICER, definition, "Note")  # the definition's own senders


def test_configuration_narrows_what_a_definition_declares_and_cannot_widen_it():
    """`triggers` in the policy keeps only the groups both name, most specific key first."""
    definition = renamed_approval()
    policy = Policy.from_mapping(
        {
            "triggers": {
                "*": ["area-managers", "auditors"],
                "succession.SuccessionDecision": ["housing-officers", "area-managers"],
            }
        }
    )
    assert policy.senders(definition, "Note") == ("area-managers",)
    assert policy.senders(definition, "SuccessionDecision") == ("area-managers",)
    with pytest.raises(Forbidden):
        policy.check_trigger(OFFICER, definition, "Note")
