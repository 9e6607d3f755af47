"""Queue follow-ups on the broker: the production `Dispatch` of the API and the workers."""

from __future__ import annotations

from machines.model import FollowUp
from workers.app import celery_app

RUN_STEP = "processes.run_step"
PUBLISH_EVENT = "processes.publish_event"
DELIVER_WEBHOOK = "processes.deliver_webhook"


def dispatch(process_id: str, follow_ups: list[FollowUp]) -> None:
    """Send each follow-up as a task message; raises if the broker does not take them."""
    for follow_up in follow_ups:
        # A short argsrepr (shown by monitoring tools) spares Celery a saferepr of the whole
        # payload on every send.
        shown = f"[{follow_up.name!r}, {process_id!r}]"
        if follow_up.kind == "task":
            celery_app.send_task(
                RUN_STEP,
                args=[follow_up.name, follow_up.payload],
                task_id=follow_up.id,
                argsrepr=shown,
                kwargsrepr="{}",
            )
        else:
            celery_app.send_task(
                PUBLISH_EVENT,
                args=[follow_up.payload],
                task_id=follow_up.id,
                argsrepr=shown,
                kwargsrepr="{}",
            )
