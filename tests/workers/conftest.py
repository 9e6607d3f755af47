"""A real Celery worker process on the test Redis, with a webhook receiver it delivers to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from pymongo.database import Database

from api import create_app
from settings import Settings
from storage.mongo import database
from tests.conftest import signed_in
from workers.dispatch import dispatch

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "test-webhook-secret"


class Receiver:
    """An HTTP endpoint that records the webhook deliveries it gets."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append(
                    {"headers": dict(self.headers), "body": body, "event": json.loads(body)}
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return [d["event"] for d in self.deliveries if d["event"]["eventType"] == event_type]


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(scope="session")
def worker_db_name() -> str:
    return f"test_worker_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def worker(
    settings: Settings, worker_db_name: str, receiver: Receiver
) -> Iterator[dict[str, str]]:
    """A `celery worker` subprocess using the test database, with fast retries."""
    env = {
        **os.environ,
        "MONGO_DB": worker_db_name,
        "WEBHOOK_URLS": receiver.url,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STEP_MAX_RETRIES": "2",
        "RETRY_BASE_SECONDS": "0.2",
        "RETRY_MAX_SECONDS": "0.5",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TENURE_API_URL", None)
    env.pop("PERSON_API_URL", None)
    log_path = ROOT / ".data" / "logs" / "test-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app",
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start; see {log_path}")
            time.sleep(0.1)
        yield env
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        database(settings.mongo_uri, worker_db_name).client.drop_database(worker_db_name)


@pytest.fixture
def worker_db(settings: Settings, worker: dict[str, str], worker_db_name: str) -> Database:
    return database(settings.mongo_uri, worker_db_name)


@pytest.fixture
def live_client(worker_db: Database):  # type: ignore[no-untyped-def]
    """The API on the worker's database, queueing follow-ups on the real broker."""
    app = create_app({"TESTING": True, "MONGO_DB": worker_db.name}, dispatch=dispatch)
    return signed_in(app, ["processes-admin"])


@pytest.fixture
def events_stream(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url, decode_responses=True)
