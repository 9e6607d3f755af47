"""Celery entry points: ids and payloads in, one use case call, retry policy. No business logic."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from celery import Task

from adapters.event_sinks import DeliveryRejected, Webhook
from machines.ports import ServiceUnavailable
from services import automation, housekeeping, outbox
from services.context import Context
from storage import RETRYABLE_ERRORS
from workers import monitoring, wiring
from workers.app import celery_app
from workers.dispatch import configured, dispatch

WAIT_AND_RETRY: tuple[type[Exception], ...] = (*RETRYABLE_ERRORS, automation.StepRaced)
"""Step failures that pass with time and spend none of the step's retries."""

log = logging.getLogger(__name__)


def backoff(attempt: int) -> float:
    """Capped exponential backoff with full jitter, in seconds, for retry number `attempt`."""
    config = wiring.settings()
    ceiling = min(config.retry_max_seconds, config.retry_base_seconds * 2 ** min(attempt, 30))
    return random.uniform(ceiling / 2, ceiling)


def done(task: Task, process_id: str) -> None:
    """The follow-up this task carried (its id is the task's) is done: take it out of the
    process's outbox. Until then the outbox sweep dispatches it again, should this message be
    lost."""
    outbox.forget(wiring.processes(), process_id, [task.request.id])


@celery_app.task(name="processes.run_step", bind=True, acks_late=True, max_retries=None)
def run_step(self: Task, step_name: str, payload: dict[str, Any], failures: int = 0) -> None:
    """Run an automated step; retry transient failures, then record the failure visibly.

    `failures` counts the attempts that services the step calls (Tenure, Person APIs) failed;
    after STEP_MAX_RETRIES of them the failure is recorded on the process. While the database
    does not answer nothing can be run or recorded, so the step waits for it, backing off,
    without spending those retries. (Celery's own retry limit is off: this one applies.)
    """
    ctx = Context(
        correlation_id=payload.get("correlationId") or self.request.id,
        on_behalf_of=payload.get("actor"),
    )
    process_id = payload["processId"]
    try:
        # A stored outcome takes the task out of the outbox in the same write.
        stored = automation.run_step(
            wiring.processes(), step_name, payload, wiring.ports(), ctx, dispatch
        )
        monitoring.step_stored(stored)
        if stored is None:  # nothing stored (a stale or repeated delivery)
            done(self, process_id)
    except WAIT_AND_RETRY as error:
        log.warning("step %s waits for the database or a quieter moment: %s", step_name, error)
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None
    except ServiceUnavailable as error:
        if failures < wiring.settings().step_max_retries:
            log.warning("step %s will be retried: %s", step_name, error)
            raise self.retry(
                args=[step_name, payload],
                kwargs={"failures": failures + 1},
                exc=error,
                countdown=backoff(failures),
            ) from None
        reason = f"Gave up after {failures + 1} attempts: {error}"
        try:
            failed = automation.record_failure(wiring.processes(), payload, reason, ctx, dispatch)
            monitoring.step_stored(failed)
            if failed is None:
                done(self, process_id)
        except WAIT_AND_RETRY as store_error:
            raise self.retry(exc=store_error, countdown=backoff(self.request.retries)) from None


@celery_app.task(name="processes.publish_event", bind=True, acks_late=True, max_retries=None)
def publish_event(self: Task, envelope: dict[str, Any]) -> None:
    """Publish an event queued as a task. Dispatch publishes events itself now; this serves
    messages queued before that, and anything still sending them."""
    try:
        configured().publish(envelope)
    except ServiceUnavailable as error:
        raise self.retry(exc=error, countdown=backoff(min(self.request.retries, 6))) from None
    done(self, envelope["entityId"])


@celery_app.task(name="processes.deliver_webhook", bind=True, acks_late=True, max_retries=12)
def deliver_webhook(self: Task, url: str, envelope: dict[str, Any]) -> None:
    """POST one event to one subscriber, retrying while it is unavailable."""
    try:
        Webhook(url, wiring.settings().webhook_secret).deliver(envelope)
    except DeliveryRejected as error:
        monitoring.webhook_refused()
        log.error("webhook %s refused event %s: %s", url, envelope.get("id"), error)
    except ServiceUnavailable as error:
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None


SWEEP_BACKLOG_LIMIT = 100
"""The outbox sweep waits while more messages than this are queued: the follow-ups still in
outboxes then are most likely queued too, not lost, and copies would only lengthen the queue
(after a long Redis outage, sweeping into the backlog multiplied it several times over)."""


def queued_messages() -> int:
    """Messages waiting in the default task queue (0 when the broker does not say)."""
    try:
        with celery_app.connection_for_write() as connection:
            declared = connection.default_channel.queue_declare(
                queue=celery_app.conf.task_default_queue, passive=True
            )
        return int(declared.message_count)
    except Exception:  # noqa: BLE001 - no such queue yet, or no answer: sweep as usual
        return 0


@celery_app.task(name="processes.sweep_outbox")
def sweep_outbox() -> int:
    """Re-dispatch follow-ups still in an outbox after the grace period: the API or a worker
    died mid-way, the broker was down, or a message was lost."""
    backlog = queued_messages()
    if backlog > SWEEP_BACKLOG_LIMIT:
        log.info("outbox sweep deferred: %d messages queued", backlog)
        return 0
    grace = timedelta(seconds=wiring.settings().outbox_grace_seconds)
    return outbox.sweep(wiring.processes(), grace, dispatch)


@celery_app.task(name="processes.requeue_stranded_steps")
def requeue_stranded_steps() -> int:
    """Queue again any automated step shown as queued with no task left to run it."""
    grace = timedelta(seconds=wiring.settings().outbox_grace_seconds)
    return housekeeping.requeue_stranded_steps(wiring.processes(), grace, dispatch)


@celery_app.task(name="processes.send_reminders")
def send_reminders() -> int:
    """Publish reminders of appointments coming up."""
    return housekeeping.send_reminders(wiring.processes(), dispatch)


@celery_app.task(name="processes.mark_overdue")
def mark_overdue() -> int:
    """Flag processes past their state's time limit."""
    return housekeeping.mark_overdue(wiring.processes(), dispatch)
