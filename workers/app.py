"""The Celery application shared by the worker, beat and the API's dispatcher."""

from __future__ import annotations

from celery import Celery

from machines.validate import check_registry
from services.forms import format_checker
from services.steps import STEPS

# On import, not in a signal handler: Celery logs and swallows a handler's exception, and the
# worker and beat would start anyway.
check_registry(STEPS, format_checker=format_checker)

celery_app = Celery("processes")
celery_app.config_from_object("celeryconfig")
celery_app.autodiscover_tasks(["workers"], related_name="tasks", force=False)
