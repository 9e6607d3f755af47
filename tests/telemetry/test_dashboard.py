"""The dashboard and the alert rules of docker-compose's Grafana and Prometheus query only
metrics a running service exposes, from the jobs Prometheus scrapes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.chaos.harness import ROOT, Stack
from tests.telemetry.test_metrics import audit_a_tenure, port_of
from tests.telemetry.test_metrics import scrape as samples_of

DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "processes.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
METRIC = re.compile(r"\bprocesses_[a-z0-9_]+")
SUFFIX = re.compile(r"_(bucket|count|sum|total)$")


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def alert_queries() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def used(queries: list[str]) -> set[str]:
    """The metric families the queries name (a histogram's _bucket is its family)."""
    return {SUFFIX.sub("", name) for query in queries for name in METRIC.findall(query)}


def families(port: int) -> set[str]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    return {family.name for family in text_string_to_metric_families(text)}


def test_every_metric_the_dashboard_and_alerts_use_is_exposed(service: Stack):
    """After a case is driven, the API's, the worker's and beat's scrapes together name every
    metric the dashboard's panels and the alert rules query."""
    audit_a_tenure(service)
    exposed = (
        families(service.api.port)
        | families(port_of(service, "WORKER_METRICS_PORT"))
        | families(port_of(service, "BEAT_METRICS_PORT"))
    )
    wanted = used(dashboard_queries()) | used(alert_queries())
    assert wanted, "no metric found in the dashboard or the rules"
    assert wanted <= exposed, sorted(wanted - exposed)
    # The series operators watch first have samples, not just a name.
    api = samples_of(service.api.port)
    assert any(name == "processes_http_request_duration_seconds_count" for name, _ in api)


def test_the_jobs_queried_are_the_jobs_scraped():
    """Every job a query names is one Prometheus scrapes, and every panel uses the provisioned
    data source."""
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == {"api", "worker", "beat"}
    named = {
        job
        for query in dashboard_queries() + alert_queries()
        for job in re.findall(r'job="(\w+)"', query)
    }
    assert named <= jobs
    dashboard = json.loads(DASHBOARD.read_text())
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {"prometheus"}


def test_the_alert_rules_are_valid_and_fire_as_the_runbook_says():
    """promtool accepts the rules, and its unit tests of them pass (where promtool is
    installed: Debian's prometheus package)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (apt-get install prometheus)")
    for command in (
        ["check", "rules", str(ALERTS)],
        ["test", "rules", str(ALERTS.with_name("alerts.test.yml"))],
    ):
        result = subprocess.run([promtool, *command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_runbook_entry():
    """Each alert links to its section of docs/operations.md, and that section exists."""
    runbook = (ROOT / "docs" / "operations.md").read_text()
    anchors = {
        "#" + re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", runbook, re.MULTILINE)
    }
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            link = rule["annotations"]["runbook"]
            assert link.startswith("docs/operations.md#"), rule["alert"]
            assert link.removeprefix("docs/operations.md") in anchors, rule["alert"]
