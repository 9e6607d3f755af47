"""The Celery application shared by the worker, beat and the API's dispatcher."""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

from machines.steps import registered
from machines.validate import check_registry
from services.forms import format_checker
from settings import MissingKeys, from_env, require_keys
from workers import monitoring  # noqa: F401 - connects its signal handlers (logs, metrics)

# On import, not in a signal handler: Celery logs and swallows a handler's exception, and the
# worker and beat would start anyway.
check_registry(registered(), format_checker=format_checker)

celery_app = Celery("processes")
celery_app.config_from_object("celeryconfig")
celery_app.autodiscover_tasks(["workers"], related_name="tasks", force=False)


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_without_keys(signal: Any = None, **_: Any) -> None:
    """Stop `celery worker` or `celery beat` before it runs without the keys it needs."""
    role = "beat" if signal is signals.beat_init else "worker"
    try:
        require_keys(from_env(), role)
    except MissingKeys as error:
        # Celery logs and swallows exceptions from signal handlers; SystemExit it lets through,
        # so the process ends with status 1 and this message.
        raise SystemExit(str(error)) from None
