"""The API served as deployed: gunicorn with gunicorn.conf.py, on a free port of 127.0.0.1,
against the MongoDB and Redis the test command started."""

from __future__ import annotations

import contextlib
import http.client
import os
import runpy
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.stack import free_port, gunicorn_command
from settings import Settings
from storage.mongo import database

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
GUNICORN = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
"""The project's gunicorn settings, as gunicorn reads them."""


@dataclass
class Served:
    """A running gunicorn: its port and its log."""

    port: int
    log_path: Path

    def get(self, path: str, timeout: float = 5.0, **headers: str) -> http.client.HTTPResponse:
        """One request on a connection of its own; the response is read in full."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response


def run(argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a command of the project in its own directory; its output as text."""
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


KEY_SETTINGS = (
    *("DEVELOPMENT_MODE", "JWT_SECRET", "JWT_PUBLIC_KEY", "JWKS_URL", "SECRET_KEY"),
    *("WEBHOOK_URLS", "WEBHOOK_SECRET"),
)
"""What decides whether the service has its keys."""


def env_without_keys(**settings: str) -> dict[str, str]:
    """This environment outside development mode, with no key set (plus `settings`)."""
    env = {name: value for name, value in os.environ.items() if name not in KEY_SETTINGS}
    env.update(settings)
    return env


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[Served]:
    """gunicorn as `make run` starts it, on a throwaway database."""
    name = f"test_served_{uuid.uuid4().hex[:8]}"
    port = free_port()
    log_path = ROOT / ".data" / "logs" / f"test-served-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env: dict[str, Any] = {**os.environ, "MONGO_DB": name}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*gunicorn_command(), "-b", f"{HOST}:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        served = Served(port, log_path)
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"gunicorn exited; see {log_path}"
            with contextlib.suppress(OSError, http.client.HTTPException):
                if served.get("/api/v1/healthcheck/ping", timeout=2).status == 200:
                    break
            assert time.monotonic() < deadline, f"gunicorn did not answer; see {log_path}"
            time.sleep(0.1)
        yield served
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        database(settings.mongo_uri, name).client.drop_database(name)
