"""The service's Prometheus metrics, and how each runtime exposes them.

Counters and histograms are recorded where things happen (the API's request hooks, the
workers' task hooks, the dispatcher); figures about the stored cases (open, overdue, failed
steps, outbox) are computed when scraped, from indexed counts (`FiguresCollector`).

Under gunicorn and Celery's prefork pool several processes record the same metrics:
prometheus_client's multiprocess mode keeps them in files under PROMETHEUS_MULTIPROC_DIR,
which must be set before prometheus_client is first imported in the parent process
(gunicorn.conf.py and workers/monitoring.py do, with `telemetry.multiproc`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from telemetry.multiproc import MULTIPROC_ENV

OTHER = "other"
"""The label value of anything outside a known set (unknown routes, process names, triggers),
so that clients cannot make new series."""

HTTP_REQUEST_SECONDS = Histogram(
    "processes_http_request_duration_seconds",
    "API requests by method, route template and status, and how long they took.",
    ["method", "route", "status"],
)
TRANSITIONS = Counter(
    "processes_transitions_total",
    "Triggers fired, by process, trigger and outcome (applied, or why it was refused).",
    ["process", "trigger", "outcome"],
)
STARTED = Counter("processes_started_total", "Processes started, by process.", ["process"])
STEP_SECONDS = Histogram(
    "processes_step_duration_seconds",
    "Runs of automated steps by step and outcome (succeeded, failed, skipped, retry).",
    ["step", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STEP_RETRIES = Counter(
    "processes_step_retries_total",
    "Automated steps scheduled to run again, by step and cause (service, database).",
    ["step", "cause"],
)
WEBHOOK_DELIVERIES = Counter(
    "processes_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, rejected, retry, failed).",
    ["outcome"],
)
EVENTS_APPENDED = Counter(
    "processes_events_appended_total",
    "Events appended to the events stream (repeats it already held are not counted).",
    ["event_type"],
)
MONGODB_ERRORS = Counter(
    "processes_mongodb_errors_total",
    "MongoDB failures seen by this service: failed commands, checkouts and heartbeats.",
    ["kind"],
)
REDIS_ERRORS = Counter(
    "processes_redis_errors_total",
    "Redis failures by operation (dispatch: queueing steps, publishing events; beat_tick).",
    ["operation"],
)
BEAT_SENT = Counter("processes_beat_sent_total", "Periodic tasks beat has sent.", ["task"])
BEAT_LAST_SENT = Gauge(
    "processes_beat_last_sent_timestamp_seconds",
    "When beat last sent a periodic task (Unix time).",
    multiprocess_mode="max",
)


def known(value: str | None, allowed: Iterable[str]) -> str:
    """`value` if it is one of `allowed`, else `OTHER`."""
    return value if value is not None and value in allowed else OTHER


# --------------------------------------------------------------------------- case figures


class FiguresCollector(Collector):
    """Gauges about the stored cases, computed at most every `ttl` seconds (scrapes of
    several processes and replicas must not multiply the store's work)."""

    def __init__(self, compute: Callable[[], Any], ttl: float = 15.0) -> None:
        """`compute` returns figures shaped as `services.operations.CaseFigures`."""
        self._compute = compute
        self._ttl = ttl
        self._cached: tuple[float, Any] | None = None
        self._lock = threading.Lock()

    def figures(self) -> Any:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self._ttl:
                try:
                    self._cached = (now, self._compute())
                except Exception:  # noqa: BLE001 - the store is down: no figures, and it shows
                    MONGODB_ERRORS.labels("figures").inc()
                    self._cached = None
                    return None
            return self._cached[1]

    def collect(self) -> Iterator[Any]:
        figures = self.figures()
        up = GaugeMetricFamily(
            "processes_case_figures_up", "1 when the case figures below could be computed."
        )
        up.add_metric([], 0 if figures is None else 1)
        yield up
        if figures is None:
            return
        open_cases = GaugeMetricFamily(
            "processes_open_cases", "Cases in each non-final state.", labels=["process", "state"]
        )
        for (process, state), count in sorted(figures.open_cases.items()):
            open_cases.add_metric([process, state], count)
        yield open_cases
        overdue = GaugeMetricFamily(
            "processes_overdue_cases", "Cases past their state's time limit.", labels=["process"]
        )
        for process, count in sorted(figures.overdue.items()):
            overdue.add_metric([process], count)
        yield overdue
        failed = GaugeMetricFamily(
            "processes_failed_steps",
            "Cases whose automated step failed and waits for a retry.",
            labels=["process"],
        )
        for process, count in sorted(figures.failed_steps.items()):
            failed.add_metric([process], count)
        yield failed
        pending = GaugeMetricFamily(
            "processes_outbox_pending",
            "Follow-ups still in outboxes, by kind (task: a step; event).",
            labels=["kind"],
        )
        for kind in ("task", "event"):
            pending.add_metric([kind], figures.outbox_pending.get(kind, 0))
        yield pending
        oldest = GaugeMetricFamily(
            "processes_outbox_oldest_age_seconds",
            "Age of the oldest follow-up still in an outbox (0 when none).",
        )
        oldest.add_metric([], figures.outbox_oldest_seconds)
        yield oldest


# --------------------------------------------------------------------------- exposition


class _Everything(Collector):
    """This process's own metrics, when they are not kept in files."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


class _Declared(Collector):
    """Every process's metrics from their files, and the service's metrics none has recorded
    yet as families without samples: a scrape names every metric from the start, so that
    dashboards and alert rules can be checked against it."""

    def __init__(self) -> None:
        self._files = multiprocess.MultiProcessCollector(CollectorRegistry(auto_describe=False))

    def collect(self) -> Iterator[Any]:
        seen = set()
        for family in self._files.collect():
            seen.add(family.name)
            yield family
        for family in REGISTRY.collect():
            if family.name.startswith("processes_") and family.name not in seen:
                yield Metric(family.name, family.documentation, family.type)


def exposition_registry(*extra: Collector) -> CollectorRegistry:
    """What a scrape shows: every process's metrics of this runtime, plus `extra`."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        registry.register(_Declared())
    else:
        registry.register(_Everything())
    for collector in extra:
        registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The text a scrape gets, and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


def serve(port: int, address: str, *extra: Collector) -> None:
    """Serve this runtime's metrics at http://address:port/metrics, in a thread."""
    start_http_server(port, addr=address, registry=exposition_registry(*extra))


def mark_process_dead(pid: int) -> None:
    """Forget the live-only gauges of a child that exited (gunicorn, prefork pool)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
