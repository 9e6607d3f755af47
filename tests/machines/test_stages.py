"""Shared stages are building blocks: each takes where it is entered from and where it leads,
so a new process can place them anywhere, and bring its own submit trigger."""

from __future__ import annotations

from machines import stages
from machines.definition import ProcessDefinition, move
from machines.forms import form, must_be_true

REVIEW = form({"seenPhotographicId": must_be_true("Confirm the ID was seen.")})


def succession() -> ProcessDefinition:
    """A process that reuses the stages elsewhere than the reference processes do."""
    return ProcessDefinition(
        name="succession",
        title="Tenancy succession",
        target_type="tenure",
        version=1,
        first_state="ClaimRecorded",
        triggers=(
            *stages.documents(
                ["ClaimRecorded"],
                REVIEW,
                {"seenPhotographicId": True},
                reviewed="EvidenceChecked",
                submit_to=None,
            ),
            move("Assess", "EvidenceChecked", "Assessed", form()),
            stages.approval(["Assessed"], approved="Granted", declined="Refused"),
            stages.close(["Refused"]),
        ),
        final_states=("Granted", stages.CLOSED),
    )


def test_the_documents_stage_ends_where_the_process_says_and_brings_no_submit():
    """Reviewed documents lead to the process's own state; SubmitApplication is the
    process's to declare, so its first trigger of that name cannot clash."""
    definition = succession()
    assert "SubmitApplication" not in definition.trigger_by_name
    state = definition.run("ClaimRecorded", "RequestDocumentsDes", {})
    state = definition.run(state, "ReviewDocuments", {"seenPhotographicId": True})
    assert state == "EvidenceChecked"
    assert definition.permitted_triggers(state) == ["Assess"]


def test_the_approval_decides_between_the_outcomes_it_is_given():
    """The area manager's decision, placed after any state, leads to the outcomes named."""
    definition = succession()
    approve = {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"}
    decline = {**approve, "hoRecommendation": "decline"}
    assert definition.run("Assessed", "HOApproval", approve) == "Granted"
    assert definition.run("Assessed", "HOApproval", decline) == "Refused"


def test_the_stages_keep_the_reference_processes_as_they_were():
    """With their defaults the stages give the sole to joint flow its known states."""
    triggers = {t.name: t for t in stages.documents(["BreachChecksPassed"], REVIEW, {})}
    assert triggers["SubmitApplication"].sources == ("DocumentChecksPassed",)
    assert triggers["SubmitApplication"].targets == ("ApplicationSubmitted",)
    (investigation,) = stages.tenure_investigation()
    assert investigation.sources == ("ApplicationSubmitted",)
    assert set(investigation.targets) == set(stages.INVESTIGATION_OUTCOMES)
