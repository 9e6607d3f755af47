"""Start the stack for a benchmark as `make run` does, on free ports and throwaway data.

SecantusDB in a temporary directory and Redis on free ports (or MONGO_URI / REDIS_URL if set,
with databases named for this run only), then the product's API (gunicorn.conf.py), Celery
worker (`--concurrency=2`) and beat, and the baselines: the bare Flask app under the same
gunicorn settings and the bare Celery worker. Everything is stopped on exit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scripts import stack
from scripts.stack import HOST, LOG_DIR, Managed, Stack, StackError

PROCESS_DB_PREFIX = "bench_"


@dataclass
class Environment:
    """Where everything of one benchmark run is, and its processes by name."""

    mongo_uri: str
    redis_url: str
    product_db: str
    baseline_db: str
    api_port: int
    baseline_port: int
    jwt_secret: str
    secret_key: str
    work_dir: Path
    processes: dict[str, Managed] = field(default_factory=dict)

    @property
    def scale_db(self) -> str:
        return f"{self.product_db}_scale"

    def product_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            MONGO_URI=self.mongo_uri,
            MONGO_DB=self.product_db,
            REDIS_URL=self.redis_url,
            **self.keys(),
            PYTHONUNBUFFERED="1",
        )
        return env

    def keys(self) -> dict[str, str]:
        """This run's keys: the product refuses to start without them outside development."""
        return {"JWT_SECRET": self.jwt_secret, "SECRET_KEY": self.secret_key}

    def baseline_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            MONGO_URI=self.mongo_uri,
            BASELINE_DB=self.baseline_db,
            BASELINE_BROKER_URL=_other_redis_db(self.redis_url),
            **self.keys(),  # gunicorn.conf.py checks them before serving any app
            PYTHONUNBUFFERED="1",
        )
        return env

    def admin_token(self) -> str:
        """A token the product's API (signing with this run's secret) accepts as an admin."""
        from dataclasses import replace

        from api.auth import mint
        from settings import from_env

        settings = replace(from_env(), jwt_secret=self.jwt_secret)
        return mint(settings, "bench", "Bench", "bench@example.org", ["processes-admin"])

    def pids(self, name: str) -> list[int]:
        """The process and its children (gunicorn workers, Celery pool processes)."""
        managed = self.processes.get(name)
        if managed is None:
            return []
        return [managed.proc.pid, *_children(managed.proc.pid)]

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each started process and its children, by name."""
        return {name: sum(cpu_seconds(pid) for pid in self.pids(name)) for name in self.processes}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process (its own threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _other_redis_db(url: str) -> str:
    """The same Redis, database 1 (or the next one): the baseline's queue stays apart."""
    base, _, db = url.rpartition("/")
    number = int(db) if db.isdigit() else 0
    return f"{base}/{(number + 1) % 16}"


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                for child in handle.read().split():
                    found.append(int(child))
                    found.extend(_children(int(child)))
    return found


def _wait_http(managed: Managed, url: str, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not managed.running:
            raise StackError(f"{what} exited while starting:\n{managed.log_tail()}")
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.2)
    raise StackError(f"{what} did not answer {url} within {timeout:.0f}s:\n{managed.log_tail()}")


def _wait_log(managed: Managed, text: str, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not managed.running:
            raise StackError(f"{what} exited while starting:\n{managed.log_tail()}")
        if managed.log_path is not None and text in managed.log_path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise StackError(f"{what} did not log {text!r} within {timeout:.0f}s:\n{managed.log_tail()}")


def _mongo(running: Stack, work_dir: Path) -> str:
    uri = os.environ.get("MONGO_URI")
    if uri:
        if not stack.mongo_answers(uri, 5.0):
            raise StackError(f"MONGO_URI={uri} does not answer a ping")
        return uri
    storage = work_dir / "mongo"
    return stack.start_mongo(running, stack.free_port(), storage, "bench-mongo.log", private=False)


def _redis(running: Stack) -> str:
    binary = stack.find_redis_server()
    if binary is not None:
        return stack.start_redis(running, binary, stack.free_port(), "bench-redis.log")
    url = os.environ.get("REDIS_URL", stack.DEFAULT_REDIS_URL)
    if not stack.redis_answers(url, 2.0):
        raise StackError(f"no redis-server found and {url} does not answer")
    return url


@contextlib.contextmanager
def started() -> Iterator[Environment]:
    """The whole stack, product and baselines, stopped (and its data removed) on exit."""
    with stack.managed_stack() as running:
        work_dir = Path(tempfile.mkdtemp(prefix="bench-"))
        running.after_stop.append(lambda: shutil.rmtree(work_dir, ignore_errors=True))
        mongo_uri = _mongo(running, work_dir)
        redis_url = _redis(running)
        run_id = secrets.token_hex(4)
        env = Environment(
            mongo_uri=mongo_uri,
            redis_url=redis_url,
            product_db=f"{PROCESS_DB_PREFIX}{run_id}",
            baseline_db=f"{PROCESS_DB_PREFIX}{run_id}_baseline",
            api_port=stack.free_port(),
            baseline_port=stack.free_port(),
            jwt_secret=secrets.token_hex(32),
            secret_key=secrets.token_hex(32),
            work_dir=work_dir,
        )
        for managed in running.started:  # the servers this run started, for CPU and RSS
            env.processes[managed.name] = managed
        try:
            _start_apps(running, env)
            yield env
        finally:
            if "MONGO_URI" in os.environ:  # someone else's server: drop what this run made
                with contextlib.suppress(Exception):
                    _drop_databases(env)


_BASELINE_APP = "bench.baseline_app:create_app()"
"""Served with the API's gunicorn settings (gunicorn.conf.py), in place of the API."""


def _start_apps(running: Stack, env: Environment) -> None:
    python = sys.executable
    commands = stack.app_commands(env.api_port)
    # Same commands as `make run`, but beat keeps its schedule in this run's directory.
    beat = commands["beat"]
    beat[beat.index("--schedule") + 1] = str(env.work_dir / "celerybeat-schedule")
    for name, argv in commands.items():
        env.processes[name] = running.spawn(
            name, "app", argv, f"bench-{name}.log", env.product_env()
        )
    env.processes["baseline-api"] = running.spawn(
        "baseline-api",
        "app",
        [*stack.gunicorn_command(), "-b", f"{HOST}:{env.baseline_port}", _BASELINE_APP],
        "bench-baseline-api.log",
        env.baseline_env(),
    )
    env.processes["baseline-worker"] = running.spawn(
        "baseline-worker",
        "app",
        [
            python,
            "-m",
            "celery",
            "-A",
            "bench.baseline_worker",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
        ],
        "bench-baseline-worker.log",
        env.baseline_env(),
    )
    base = f"http://{HOST}"
    _wait_http(env.processes["api"], f"{base}:{env.api_port}/api/v1/healthcheck/ping", "API")
    _wait_http(env.processes["baseline-api"], f"{base}:{env.baseline_port}/ping", "baseline API")
    _wait_log(env.processes["worker"], " ready.", "worker")
    _wait_log(env.processes["baseline-worker"], " ready.", "baseline worker")
    print(
        f"[bench] stack up: API :{env.api_port}, baseline :{env.baseline_port}, logs {LOG_DIR}",
        file=sys.stderr,
        flush=True,
    )


def _drop_databases(env: Environment) -> None:
    import pymongo

    client: pymongo.MongoClient = pymongo.MongoClient(env.mongo_uri)
    try:
        for name in (env.product_db, env.baseline_db, env.scale_db):
            client.drop_database(name)
    finally:
        client.close()
