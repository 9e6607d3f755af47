"""A whole service of its own for these tests: SecantusDB, Redis, the API under gunicorn, a
prefork worker and beat, each writing the JSON logs and serving the metrics operators get
(tests/chaos/harness.py starts and stops them), with a webhook subscriber."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.stack import free_port
from tests.chaos.harness import Stack, running_stack
from tests.workers.conftest import WEBHOOK_SECRET, Receiver


@pytest.fixture(scope="package")
def subscriber() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(scope="package")
def service(subscriber: Receiver) -> Iterator[Stack]:
    """The service as `make run` runs it, on free ports; metrics on their own ports."""
    with running_stack(
        "telemetry",
        WORKER_METRICS_PORT=str(free_port()),
        BEAT_METRICS_PORT=str(free_port()),
        WEBHOOK_URLS=subscriber.url,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        LOG_LEVEL="INFO",
        METRICS_FIGURES_SECONDS="0",  # figures as of each scrape
    ) as stack:
        yield stack


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a log, one a line (Celery's start-up banner is not JSON)."""
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll until `check()` is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")
