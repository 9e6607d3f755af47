"""What the worker and beat say about themselves: log set-up, correlation ids carried in task
headers, step and webhook metrics, beat's heartbeat, and each runtime's metrics port.

Connected to Celery's signals when `workers.app` is imported. prometheus_client must not be
imported before `celeryd_init` has named the metrics directory of the prefork pool, so the
handlers here import `telemetry.metrics` when they first run.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import redis
from celery import signals

from adapters.heartbeats import record_beat
from settings import from_env
from storage import StoreError
from storage.monitoring import count_failure, watch_failures
from telemetry import context, logs
from telemetry.context import CORRELATION_ID
from telemetry.multiproc import prepare_multiprocess_dir, remove_multiprocess_dir

log = logging.getLogger(__name__)
steps_log = logs.get_logger("workers.steps")

RUN_STEP = "processes.run_step"
DELIVER_WEBHOOK = "processes.deliver_webhook"
PERIODIC_TASKS = frozenset(
    {
        "processes.sweep_outbox",
        "processes.requeue_stranded_steps",
        "processes.mark_overdue",
        "processes.send_reminders",
    }
)
_F = TypeVar("_F", bound=Callable[..., Any])
_role = {"name": "beat"}
"""`celeryd_init` makes it "worker"; beat sends no such signal before its logging is set up."""


@dataclass
class _Run:
    """The task this worker process is running now."""

    name: str
    started: float
    step: str | None = None
    outcome: str | None = None
    retry_cause: str | None = None


_current: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("task_run", default=None)


# --------------------------------------------------------------------------- start-up


@signals.celeryd_init.connect
def prepare_worker(**_: Any) -> None:
    """In the worker's main process, before the pool forks: name the metrics directory."""
    _role["name"] = "worker"
    if "prometheus_client" in sys.modules:
        # Something imported it with the tasks, before this ran: each pool process would keep
        # metrics of its own, and the worker's port would show none of theirs.
        warnings.warn(
            "prometheus_client was imported before the worker named its metrics directory; "
            "import telemetry.metrics only inside functions in modules the worker loads",
            RuntimeWarning,
            stacklevel=1,
        )
    prepare_multiprocess_dir("worker")


@signals.setup_logging.connect
def configure_logging(loglevel: Any = None, **_: Any) -> None:
    """Log as the API does (JSON lines, or LOG_FORMAT=console), instead of Celery's format."""
    settings = from_env()
    logs.configure(_role["name"], settings.log_level, settings.log_format)


@signals.worker_ready.connect
def serve_worker_metrics(**_: Any) -> None:
    """Serve the pool's metrics on WORKER_METRICS_PORT (0: not at all)."""
    _watch_mongodb()
    settings = from_env()
    _serve("worker", settings.worker_metrics_port, settings.metrics_address)


@signals.beat_init.connect
def serve_beat_metrics(**_: Any) -> None:
    """Serve beat's metrics on BEAT_METRICS_PORT (0: not at all)."""
    settings = from_env()
    _serve("beat", settings.beat_metrics_port, settings.metrics_address)


def _serve(role: str, port: int, address: str) -> None:
    if not port:
        return
    from telemetry import metrics

    try:
        metrics.serve(port, address)
    except OSError as error:
        # Metrics are for operators; the work goes on without them.
        log.error("%s metrics not served on %s:%d: %s", role, address, port, error)
        return
    log.info("%s metrics at http://%s:%d/metrics", role, address, port)


@signals.worker_process_init.connect
def watch_child(**_: Any) -> None:
    """In each pool process: count MongoDB failures of the client it is about to make."""
    _watch_mongodb()


@signals.worker_shutdown.connect
def remove_metrics_dir(**_: Any) -> None:
    remove_multiprocess_dir()


def _watch_mongodb() -> None:
    from telemetry import metrics

    watch_failures(lambda kind: metrics.MONGODB_ERRORS.labels(kind).inc())


# --------------------------------------------------------------------------- publishing


@signals.before_task_publish.connect
def carry_correlation_id(sender: str | None = None, headers: Any = None, **_: Any) -> None:
    """Give every task queued on behalf of a request that request's correlation id; in beat,
    note the heartbeat that the readiness check reads."""
    correlation_id = context.correlation_id()
    if correlation_id and isinstance(headers, dict):
        headers.setdefault(CORRELATION_ID, correlation_id)
    if _role["name"] == "beat" and sender in PERIODIC_TASKS:
        _beat_sent(str(sender))


def _beat_sent(task: str) -> None:
    from telemetry import metrics

    metrics.BEAT_SENT.labels(task).inc()
    metrics.BEAT_LAST_SENT.set_to_current_time()
    try:
        record_beat(_redis())
    except redis.RedisError as error:
        metrics.REDIS_ERRORS.labels("beat_tick").inc()
        log.warning("beat's heartbeat not recorded: %s", error)


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(from_env().redis_url, socket_timeout=2, socket_connect_timeout=2)


# --------------------------------------------------------------------------- running


@signals.task_prerun.connect
def bind_task(task_id: str | None = None, task: Any = None, args: Any = None, **_: Any) -> None:
    """Every line the task logs names it, and the request (or step) it works for."""
    context.clear()
    name = getattr(task, "name", None) or "unknown"
    request = getattr(task, "request", None)
    header = request.get(CORRELATION_ID) if request is not None else None
    run = _Run(name=name, started=time.perf_counter())
    values: dict[str, Any] = {"taskId": task_id, "taskName": name}
    if name == RUN_STEP and args and len(args) >= 2 and isinstance(args[1], dict):
        payload = args[1]
        run.step = str(args[0])
        values.update(
            step=run.step,
            processId=payload.get("processId"),
            processName=payload.get("processName"),
            fromState=payload.get("state"),
            attempt=(request.retries if request is not None else 0) + 1,
        )
        # The payload names the request that queued the step, also when the outbox sweep
        # queued it again (its header then names the sweep).
        header = payload.get("correlationId") or header
    if name == DELIVER_WEBHOOK and args and len(args) >= 2 and isinstance(args[1], dict):
        values.update(eventId=args[1].get("id"), processId=args[1].get("entityId"))
        header = args[1].get("correlationId") or header
    values[CORRELATION_ID] = header or task_id
    context.bind(**values)
    _current.set(run)


@signals.task_retry.connect
def note_retry(reason: Any = None, **_: Any) -> None:
    if isinstance(reason, StoreError):
        count_failure(reason)
    run = _current.get()
    if run is not None:
        run.retry_cause = _cause(reason)


@signals.task_failure.connect
def note_failure(exception: BaseException | None = None, **_: Any) -> None:
    if isinstance(exception, StoreError):
        count_failure(exception)


@signals.task_postrun.connect
def measure_task(state: str | None = None, **_: Any) -> None:
    """Record how the step or delivery went, then forget the task's context."""
    run = _current.get()
    _current.set(None)
    try:
        if run is not None:
            _measure(run, state or "")
    finally:
        context.clear()


def _measure(run: _Run, state: str) -> None:
    from telemetry import metrics

    seconds = time.perf_counter() - run.started
    if run.name == RUN_STEP and run.step is not None:
        if state == "RETRY":
            outcome = "retry"
            metrics.STEP_RETRIES.labels(run.step, run.retry_cause or "service").inc()
        elif state == "SUCCESS":
            outcome = run.outcome or "skipped"
        else:
            outcome = "error"
        metrics.STEP_SECONDS.labels(run.step, outcome).observe(seconds)
    elif run.name == DELIVER_WEBHOOK:
        if state == "RETRY":
            outcome = "retry"
        elif state == "SUCCESS":
            outcome = run.outcome or "delivered"
        else:
            outcome = "failed"
        metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()


def _cause(reason: Any) -> str:
    from machines.ports import ServiceUnavailable

    if isinstance(reason, ServiceUnavailable):
        return "service"
    if type(reason).__name__ == "StepRaced":
        return "conflict"
    return "database"


# --------------------------------------------------------------------------- from the tasks


def step_stored(process: Any) -> None:
    """What the step just stored (the process with its outcome or its failure, or None when
    it had nothing to do): counted when the task ends, logged now."""
    run = _current.get()
    if process is None:
        if run is not None:
            run.outcome = "skipped"
        steps_log.info("step skipped: the case no longer waits for it")
        return
    automation = process.current_state.automation or {}
    failed = automation.get("status") == "failed"
    if run is not None:
        run.outcome = "failed" if failed else "succeeded"
    fields = {
        "processId": process.id,
        "processName": process.process_name,
        "toState": process.state,
        "version": process.version,
    }
    if failed:
        steps_log.warning("step failed: the case waits for a retry", **fields)
        return
    trigger = process.current_state.trigger
    steps_log.info("step moved the case on", trigger=trigger, **fields)
    from telemetry import metrics

    metrics.TRANSITIONS.labels(process.process_name, str(trigger), "applied").inc()


def event_appended(envelope: dict[str, Any]) -> None:
    """The stream took an event it did not hold yet."""
    from telemetry import metrics

    metrics.EVENTS_APPENDED.labels(str(envelope.get("eventType", metrics.OTHER))).inc()


def counts_redis_failures(operation: str) -> Callable[[_F], _F]:
    """Count every exception the decorated function raises as a Redis failure of `operation`
    (what the dispatcher does is queue on the broker and append to the stream), and re-raise."""

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception:
                from telemetry import metrics

                metrics.REDIS_ERRORS.labels(operation).inc()
                raise

        return counted  # type: ignore[return-value]

    return decorate


def webhook_refused() -> None:
    """The subscriber refused the delivery (4xx): counted as rejected, not delivered."""
    run = _current.get()
    if run is not None:
        run.outcome = "rejected"
