"""The Celery application shared by the worker, beat and the API's dispatcher."""

from __future__ import annotations

from celery import Celery

celery_app = Celery("processes")
celery_app.config_from_object("celeryconfig")
celery_app.autodiscover_tasks(["workers"], related_name="tasks", force=False)
