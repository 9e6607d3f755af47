"""Operators find the cases whose automated step failed (the listing's automationStatus filter
and `flask automation failed`) and retry them in bulk (`automation retry-failed`)."""

from __future__ import annotations

from typing import Any

from machines.queries import ProcessQuery
from services import automation
from services.context import Context
from tests.api.test_worktrays import stages
from tests.support import BASE, fire, start

REASON = "Gave up after 3 attempts: GET http://tenures/api/v1/tenures/x answered 503."


def failed_case(app, client, dispatched) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A sole to joint case whose eligibility check failed for good."""
    case = start(client, "soletojoint")
    form = {"incomingTenantId": case["relatedEntities"][0]["id"]}
    assert fire(client, case, "CheckAutomatedEligibility", form).status_code == 200
    (step,) = [f for f in dispatched.for_process(case["id"]) if f.kind == "task"]
    repo = app.extensions["repository"]()
    automation.record_failure(repo, step.payload, REASON, Context(), lambda *_: [])
    return case


def test_the_listing_shows_only_cases_whose_step_failed_with_the_reason(app, client, dispatched):
    """?automationStatus=failed lists the failed case, with its reason, and not the others."""
    failed = failed_case(app, client, dispatched)
    start(client, "soletojoint")
    response = client.get(f"{BASE}?automationStatus=failed")
    assert response.status_code == 200
    (listed,) = [next(iter(result.values())) for result in response.get_json()["results"]]
    assert listed["id"] == failed["id"]
    assert listed["currentState"]["automation"]["status"] == "failed"
    assert listed["currentState"]["automation"]["reason"] == REASON


def test_an_unknown_automation_status_is_a_problem_naming_the_field(client):
    """Only queued and failed are statuses to filter by: anything else is a 400 naming it."""
    response = client.get(f"{BASE}?automationStatus=broken")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "automationStatus" in str(response.get_json())


def test_the_filter_is_served_by_an_index(app):
    """explain() shows an index scan for failed steps, never a collection scan."""
    repo = app.extensions["repository"]()
    plan = repo.explain(ProcessQuery(automation_status="failed"))["queryPlanner"]["winningPlan"]
    assert "IXSCAN" in stages(plan), plan
    assert "COLLSCAN" not in stages(plan), plan


def test_the_cli_lists_failed_steps_and_retries_them_after_a_dry_run(app, client, dispatched):
    """`automation failed` names the case and the reason; `retry-failed` changes nothing
    until --apply, which queues the step again."""
    case = failed_case(app, client, dispatched)
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["automation", "failed"])
    assert listed.exit_code == 0, listed.output
    assert case["id"] in listed.output
    assert REASON in listed.output

    queued_before = len(dispatched)
    dry = runner.invoke(args=["automation", "retry-failed"])
    assert dry.exit_code == 0, dry.output
    assert "would queue again" in dry.output
    assert "--apply" in dry.output
    assert len(dispatched) == queued_before
    assert (
        client.get(f"{BASE}/soletojoint/{case['id']}").get_json()["soletojoint"]["currentState"][
            "automation"
        ]["status"]
        == "failed"
    )

    applied = runner.invoke(args=["automation", "retry-failed", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert "1 step(s) queued again" in applied.output
    body = client.get(f"{BASE}/soletojoint/{case['id']}").get_json()["soletojoint"]
    assert body["currentState"]["automation"]["status"] == "queued"
    assert [f.kind for _, f in dispatched[queued_before:]].count("task") == 1
    assert "0 case(s)" in runner.invoke(args=["automation", "failed"]).output
