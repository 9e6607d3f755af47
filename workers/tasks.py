"""Celery entry points: ids and payloads in, one use case call, retry policy. No business logic."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from celery import Task

from adapters.event_sinks import DeliveryRejected, Webhook
from services import automation, housekeeping
from services.ports import ServiceUnavailable
from services.processes import Context
from storage import RETRYABLE_ERRORS
from workers import wiring
from workers.app import celery_app
from workers.dispatch import DELIVER_WEBHOOK, dispatch

log = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (ServiceUnavailable, *RETRYABLE_ERRORS)


def backoff(attempt: int) -> float:
    """Capped exponential backoff with full jitter, in seconds, for retry number `attempt`."""
    config = wiring.settings()
    ceiling = min(config.retry_max_seconds, config.retry_base_seconds * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


@celery_app.task(name="processes.run_step", bind=True, acks_late=True)
def run_step(self: Task, step_name: str, payload: dict[str, Any]) -> None:
    """Run an automated step; retry transient failures, then record the failure visibly."""
    ctx = Context(correlation_id=payload.get("correlationId") or self.request.id)
    try:
        automation.run_step(wiring.processes(), step_name, payload, wiring.ports(), ctx, dispatch)
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= wiring.settings().step_max_retries:
            reason = f"Gave up after {self.request.retries + 1} attempts: {error}"
            automation.record_failure(wiring.processes(), payload, reason, ctx, dispatch)
            return
        log.warning("step %s will be retried: %s", step_name, error)
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None


@celery_app.task(name="processes.publish_event", bind=True, acks_late=True, max_retries=None)
def publish_event(self: Task, envelope: dict[str, Any]) -> None:
    """Append the event to the stream and queue one delivery per webhook subscriber."""
    try:
        wiring.stream().publish(envelope)
    except ServiceUnavailable as error:
        raise self.retry(exc=error, countdown=backoff(min(self.request.retries, 6))) from None
    for hook in wiring.webhooks():
        celery_app.send_task(DELIVER_WEBHOOK, args=[hook.url, envelope])


@celery_app.task(name="processes.deliver_webhook", bind=True, acks_late=True, max_retries=12)
def deliver_webhook(self: Task, url: str, envelope: dict[str, Any]) -> None:
    """POST one event to one subscriber, retrying while it is unavailable."""
    try:
        Webhook(url, wiring.settings().webhook_secret).deliver(envelope)
    except DeliveryRejected as error:
        log.error("webhook %s refused event %s: %s", url, envelope.get("id"), error)
    except ServiceUnavailable as error:
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None


@celery_app.task(name="processes.sweep_outbox")
def sweep_outbox() -> int:
    """Re-dispatch follow-ups that stayed in an outbox (the API or a worker died mid-way)."""
    grace = timedelta(seconds=wiring.settings().outbox_grace_seconds)
    return housekeeping.sweep_outbox(wiring.processes(), grace, dispatch)


@celery_app.task(name="processes.send_reminders")
def send_reminders() -> int:
    """Publish reminders of appointments coming up."""
    return housekeeping.send_reminders(wiring.processes(), dispatch)


@celery_app.task(name="processes.mark_overdue")
def mark_overdue() -> int:
    """Flag processes past their state's time limit."""
    return housekeeping.mark_overdue(wiring.processes(), dispatch)
