"""The baseline of the automation scenario: a bare Celery task doing the step's store I/O.

Run as the product's worker is (`celery ... worker --concurrency=2`, acks late, prefetch 1):
read the process, read its tenure, write the outcome conditioned on the version.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from celery import Celery
from pymongo import MongoClient
from pymongo.database import Database

from bench.baseline_app import STEP_TASK, state_entry

celery_app = Celery("bench-baseline")
celery_app.conf.update(
    broker_url=os.environ.get("BASELINE_BROKER_URL", "redis://127.0.0.1:6379/1"),
    task_ignore_result=True,
    result_backend=None,
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@cache
def _db(pid: int) -> Database:
    client: MongoClient = MongoClient(os.environ["MONGO_URI"], tz_aware=True, appname="bench-w")
    return client[os.environ["BASELINE_DB"]]


@celery_app.task(name=STEP_TASK, acks_late=True)
def baseline_step(process_id: str, version: int) -> None:
    db = _db(os.getpid())
    document: dict[str, Any] | None = db["processes"].find_one({"_id": process_id}, {"outbox": 0})
    if document is None or document["version"] != version:
        return
    tenure = db["tenures"].find_one({"_id": document["targetId"]})
    entry = state_entry("Checked", "TenureActive", {"tenureActive": bool(tenure)})
    db["processes"].update_one(
        {"_id": process_id, "version": version},
        {
            "$set": {"currentState": entry, "updatedAt": entry["createdAt"]},
            "$push": {"previousStates": document["currentState"]},
            "$inc": {"version": 1},
        },
    )
