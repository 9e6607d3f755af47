"""`make run` as an operator meets it (scripts/stack.py run, on free ports and a data
directory of its own): the banner once the API answers, a second run refused before it starts
anything, and servers it did not start never used."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest

from scripts.stack import HOST, find_secantusd, free_port, mongo_answers

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run_env(data: Path, **ports: int) -> dict[str, str]:
    """make run's environment: its own data directory and ports, no server of the tests."""
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "REDIS_URL")}
    env.update(STACK_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    for name in ("PORT", "STACK_MONGO_PORT", "STACK_REDIS_PORT"):
        env[name] = str(ports.get(name) or free_port())
    for name in ("WORKER_METRICS_PORT", "BEAT_METRICS_PORT"):
        env[name] = str(ports.get(name) or free_port())
    return env


def start_run(env: dict[str, str], output: Path) -> subprocess.Popen[bytes]:
    with open(output, "wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "scripts.stack", "run"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def finish(process: subprocess.Popen[bytes], timeout: float = 60) -> int:
    """What a run that refuses to start exits with (it must not hang)."""
    return process.wait(timeout)


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def ping(port: int) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/api/v1/healthcheck/ping")
        return connection.getresponse().status
    except OSError:
        return 0
    finally:
        connection.close()


@pytest.fixture(name="running")
def _running(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, subprocess.Popen[bytes]]]:
    """A make run that has printed its banner."""
    env = run_env(tmp_path / "data")
    output = tmp_path / "first.out"
    process = start_run(env, output)
    try:
        deadline = time.monotonic() + 90
        while "[stack] API:" not in output.read_text(errors="replace"):
            assert process.poll() is None, output.read_text(errors="replace")
            assert time.monotonic() < deadline, output.read_text(errors="replace")
            time.sleep(0.2)
        yield env, output, process
    finally:
        stop(process)


def test_the_banner_comes_once_the_api_answers(running):
    """When the banner names the API's address, the API answers there."""
    env, _, _ = running
    assert ping(int(env["PORT"])) == 200


def test_a_second_run_is_refused_before_it_starts_anything(running, tmp_path: Path):
    """A second run in the same checkout names the running one and exits 1 at once: no second
    banner, token, worker or beat, and the first run's logs are left as they are."""
    env, _, first = running
    logs = Path(env["STACK_DATA_DIR"]) / "logs"
    (run_dir,) = [p for p in logs.iterdir() if p.name.startswith("run-")]
    api_log = (run_dir / "api.log").read_bytes()
    second = start_run(env, tmp_path / "second.out")
    assert finish(second) == 1
    said = (tmp_path / "second.out").read_text()
    assert "already running" in said
    assert f"pid {first.pid}" in said
    assert "Token:" not in said
    assert "API:" not in said
    assert [p for p in logs.iterdir() if p.name.startswith("run-")] == [run_dir]
    assert (run_dir / "api.log").read_bytes().startswith(api_log)
    assert ping(int(env["PORT"])) == 200


def test_a_mongodb_it_did_not_start_is_named_and_not_used(tmp_path: Path):
    """A MongoDB already on make run's port, not started by it, is refused, named with the
    program holding the port; nothing is started and nothing is written to that server."""
    launcher = find_secantusd()
    assert launcher
    port = free_port()
    (tmp_path / "foreign").mkdir()
    foreign = subprocess.Popen(
        [
            launcher,
            "--host",
            HOST,
            "--port",
            str(port),
            "--storage-path",
            str(tmp_path / "foreign"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not mongo_answers(f"mongodb://{HOST}:{port}", 0.5):
            assert time.monotonic() < deadline
        env = run_env(tmp_path / "data", STACK_MONGO_PORT=port)
        run = start_run(env, tmp_path / "run.out")
        assert finish(run) == 1
        said = (tmp_path / "run.out").read_text()
        assert f"port {port}" in said
        assert "MongoDB server make run did not start" in said
        assert f"pid {foreign.pid}" in said
        assert "Nothing was started" in said
        assert not (tmp_path / "data" / "logs").exists()
        with pymongo.MongoClient(
            f"mongodb://{HOST}:{port}", serverSelectionTimeoutMS=3000
        ) as client:
            assert set(client.list_database_names()) <= {"admin", "config", "local"}
    finally:
        os.killpg(foreign.pid, signal.SIGTERM)
        try:
            foreign.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(foreign.pid, signal.SIGKILL)
            foreign.wait(10)


def test_a_busy_api_port_is_named_before_anything_starts(tmp_path: Path):
    """Something else on the API's port: make run names it and starts no server."""
    import socket

    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = run_env(tmp_path / "data", PORT=port)
        run = start_run(env, tmp_path / "run.out")
        assert finish(run) == 1
    said = (tmp_path / "run.out").read_text()
    assert f"port {port}, wanted for the API (PORT)" in said
    assert "starting MongoDB" not in said
