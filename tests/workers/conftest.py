"""A real Celery worker process on the test Redis, with a webhook receiver it delivers to."""

from __future__ import annotations

import contextlib
import json
import os
import signal
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

from adapters.event_sinks import RedisStream
from api import create_app
from settings import Settings
from storage.mongo import database
from tests.conftest import signed_in
from workers.dispatch import Dispatcher

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "test-webhook-secret-of-at-least-32-bytes"


class Receiver:
    """An HTTP endpoint that records the webhook deliveries it gets."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.refused = 0
        self.refuse_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.refuse_next > 0:
                    receiver.refuse_next -= 1
                    receiver.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
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


class Worker:
    """A `celery worker` subprocess (solo pool) with its own environment and log."""

    def __init__(self, env: dict[str, str], name: str) -> None:
        self.log_path = ROOT / ".data" / "logs" / f"test-{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
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
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while "ready." not in self.log_path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the Celery worker did not start; see {self.log_path}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the worker, as a crash or an out-of-memory kill would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)


def worker_env(settings: Settings, db_name: str, **overrides: str) -> dict[str, str]:
    """The environment of a test worker: the test servers, fast retries, local records."""
    env = {
        **os.environ,
        "MONGO_DB": db_name,
        "STEP_MAX_RETRIES": "2",
        "RETRY_BASE_SECONDS": "0.2",
        "RETRY_MAX_SECONDS": "0.5",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TENURE_API_URL", None)
    env.pop("PERSON_API_URL", None)
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def worker(
    settings: Settings, worker_db_name: str, receiver: Receiver
) -> Iterator[dict[str, str]]:
    """A worker on the session's broker and database, delivering webhooks to `receiver`."""
    env = worker_env(
        settings, worker_db_name, WEBHOOK_URLS=receiver.url, WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    running = Worker(env, "worker")
    try:
        yield env
    finally:
        running.stop()
        database(settings.mongo_uri, worker_db_name).client.drop_database(worker_db_name)


@pytest.fixture
def worker_db(settings: Settings, worker: dict[str, str], worker_db_name: str) -> Database:
    return database(settings.mongo_uri, worker_db_name)


@pytest.fixture(scope="session")
def live_dispatch(settings: Settings, receiver: Receiver) -> Dispatcher:
    """The production dispatcher, configured as the worker is."""
    client = redis.Redis.from_url(settings.redis_url)
    return Dispatcher(RedisStream(client, settings.events_stream), [receiver.url])


@pytest.fixture
def live_client(worker_db: Database, live_dispatch: Dispatcher):  # type: ignore[no-untyped-def]
    """The API on the worker's database, queueing follow-ups on the real broker and publishing
    events to the real stream and to `receiver`, as the worker does."""
    app = create_app({"TESTING": True, "MONGO_DB": worker_db.name}, dispatch=live_dispatch)
    return signed_in(app, ["processes-admin"])


@pytest.fixture
def events_stream(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url, decode_responses=True)
