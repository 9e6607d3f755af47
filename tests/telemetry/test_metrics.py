"""What Prometheus scrapes after cases are driven: the API's /metrics (requests, transitions,
starts, case figures), the worker's port (steps run in its pool, webhooks) and beat's."""

from __future__ import annotations

import http.client
import re

from prometheus_client.parser import text_string_to_metric_families

from tests.chaos.harness import HOST, Stack, seed_tenures
from tests.telemetry.conftest import wait_for


def scrape(port: int, path: str = "/metrics") -> dict[tuple[str, frozenset], float]:
    """The samples a scrape of 127.0.0.1:`port` returns, by (name, labels)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    connection.request("GET", path)
    try:
        response = connection.getresponse()
        text = response.read().decode()
    finally:
        connection.close()
    assert response.status == 200, text[:300]
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def port_of(service: Stack, setting: str) -> int:
    return int(service.env[setting])


def audit_a_tenure(service: Stack) -> str:
    """A tenancy audit whose visit is booked by the worker's automated check; its id."""
    (tenure_id,) = seed_tenures(service.db, 1, ended_every=10)
    client = service.client()
    started = client.start_audit(tenure_id)
    assert started.status == 201, started.body
    process_id = started.process["id"]
    assert client.schedule_visit(process_id).status == 200
    wait_for(
        lambda: service.db.processes.find_one(
            {"_id": process_id, "currentState.state": "VisitScheduled"}
        ),
        "the automated tenure check",
    )
    return process_id


def test_the_api_shows_requests_transitions_and_case_figures(service: Stack):
    """After an audit is started and scheduled, the API's /metrics counts the requests by route
    template and status, the start, the trigger applied, and shows the open case."""
    before = scrape(service.api.port)
    audit_a_tenure(service)
    after = scrape(service.api.port)

    route = "/api/v1/process/<process_name>/<process_id>"
    requests = "processes_http_request_duration_seconds_count"
    assert value(after, requests, method="PATCH", route=route, status="200") > value(
        before, requests, method="PATCH", route=route, status="200"
    )
    assert value(after, "processes_started_total", process="tenancyaudit") >= 1
    assert (
        value(
            after,
            "processes_transitions_total",
            process="tenancyaudit",
            trigger="ScheduleVisit",
            outcome="applied",
        )
        >= 1
    )
    assert value(after, "processes_case_figures_up") == 1
    assert (
        value(after, "processes_open_cases", process="tenancyaudit", state="VisitScheduled") >= 1
    )
    assert ("processes_outbox_oldest_age_seconds", frozenset()) in after
    assert value(after, "processes_events_appended_total", event_type="ProcessStartedEvent") >= 1


def test_refused_and_unknown_triggers_are_counted_without_new_series(service: Stack):
    """A trigger the state does not allow counts as not_allowed; a made-up trigger name counts
    under "other", so clients cannot add series."""
    process_id = audit_a_tenure(service)
    client = service.client()
    assert client.record_visit(process_id).status == 200
    assert client.record_visit(process_id).status == 409  # the audit has ended
    made_up = "Made-Up-" + process_id
    assert client.fire("tenancyaudit", process_id, made_up, {}).status in (400, 409)
    samples = scrape(service.api.port)
    assert (
        value(
            samples,
            "processes_transitions_total",
            process="tenancyaudit",
            trigger="RecordVisit",
            outcome="not_allowed",
        )
        >= 1
    )
    assert not any(made_up in str(labels) for _, labels in samples)


def test_the_worker_shows_the_steps_its_pool_ran(service: Stack):
    """The worker's metrics port counts the automated check run in one of its prefork pool
    processes, with its outcome and duration, the transition it applied and the webhook
    deliveries of its events."""
    audit_a_tenure(service)
    port = port_of(service, "WORKER_METRICS_PORT")

    def counted() -> dict[tuple[str, frozenset], float] | None:
        samples = scrape(port)
        name = "processes_step_duration_seconds_count"
        ran = value(samples, name, step="check_tenure_active", outcome="succeeded")
        delivered = value(samples, "processes_webhook_deliveries_total", outcome="delivered")
        return samples if ran >= 1 and delivered >= 1 else None

    samples = wait_for(counted, "the step in the worker's metrics")
    applied = {
        labels
        for name, labels in samples
        if name == "processes_transitions_total" and samples[(name, labels)] >= 1
    }
    assert any({("process", "tenancyaudit"), ("outcome", "applied")} <= set(a) for a in applied), [
        k for k in samples if "transition" in k[0]
    ]


def test_beat_shows_the_periodic_tasks_it_sent(service: Stack):
    """Beat's metrics port counts the periodic tasks it sent and when it last sent one."""
    port = port_of(service, "BEAT_METRICS_PORT")
    samples = wait_for(
        lambda: (
            (s := scrape(port))
            and value(s, "processes_beat_sent_total", task="processes.sweep_outbox") >= 1
            and s
        ),
        "beat's first sweep",
    )
    assert value(samples, "processes_beat_last_sent_timestamp_seconds") > 0


def test_metrics_name_routes_by_template_not_by_path(service: Stack):
    """Process ids never appear in the API's series: routes are templates."""
    process_id = audit_a_tenure(service)
    text = str(scrape(service.api.port))
    assert process_id not in text
    assert re.search(r"<process_id>", text)
