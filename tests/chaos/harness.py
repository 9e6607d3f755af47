"""Real servers a fault-injection test owns: SecantusDB, Redis, the API under gunicorn, Celery
worker and beat. Each is a subprocess in its own process group, on 127.0.0.1 and a free port,
that the test can stop, kill, pause and start again (servers on the same port and data).

Also: an HTTP client that never raises, a journal of what clients were told, and `audit`,
which checks every stored process, its outbox and the events stream.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pymongo
import redis

from api.auth import mint
from machines import registry
from machines.definition import ProcessDefinition
from scripts.stack import (
    find_redis_server,
    find_secantusd,
    free_port,
    gunicorn_command,
    mongo_answers,
    redis_answers,
)
from services import events
from settings import from_env
from storage.processes import from_document

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
LOG_DIR = ROOT / ".data" / "logs" / "chaos" / time.strftime(f"%Y%m%d-%H%M%S-{os.getpid()}")
"""This run's logs: a directory per run, so that runs side by side keep theirs apart."""
FULL = os.environ.get("CHAOS_SIZE", "short") == "full"
"""`make chaos` sets CHAOS_SIZE=full: the sizes of the issue (30 s outage, 500 processes...)."""

STREAM = "processes.events"
DB_NAME = "chaos"
APPOINTMENT = "2030-06-01T10:30:00"  # far ahead: no reminder or deadline fires during a test

# In worker logs: what each outbox sweep re-dispatched, and which tasks arrived.
SWEEP_RESULT = re.compile(r"processes\.sweep_outbox\[[^\]]+\] succeeded in [^ ]+: (\d+)")
TASK_RECEIVED = re.compile(r"Task processes\.(?:run_step|publish_event)\[([^\]]+)\] received")


def size(short: Any, full: Any) -> Any:
    """The short value in `make test`, the full one in `make chaos`."""
    return full if FULL else short


def wait_for(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    interval: float = 0.1,
    explain: Callable[[], str] = str,
) -> float:
    """Poll `check` until it holds; return the seconds it took, or fail after `timeout`."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f}s. {explain()}")
        time.sleep(interval)


# --------------------------------------------------------------------------- processes


class Child:
    """A subprocess, leader of its own process group, logging to LOG_DIR/<name>.log."""

    def __init__(self, name: str, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.env = env
        self.log_path = LOG_DIR / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_offset = 0
        self.starts = 0
        self.wanted = False
        """Whether the test wants it running (a crash is then restarted, see `Supervisor`)."""
        self.crashes = 0
        self.lock = threading.RLock()

    def argv(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return True

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait: bool = True, timeout: float = 30.0) -> None:
        with self.lock:
            self._start()
        if wait:
            self.wait_ready(timeout)

    def _start(self) -> None:
        assert not self.running, f"{self.name} is already running"
        self.wanted = True
        self._close_log()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed when the process ends
        self._log_offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(
            self.argv(),
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1

    def restart_if_crashed(self) -> bool:
        """Start it again if it exited on its own while wanted, as docker-compose's
        `restart: unless-stopped` does; whether it did."""
        with self.lock:
            if not self.wanted or self.running or self.proc is None:
                return False
            self.crashes += 1
            self._start()
            return True

    def wait_ready(self, timeout: float = 30.0) -> None:
        def up() -> bool:
            if not self.running:
                raise AssertionError(f"{self.name} exited while starting; see {self.log_path}")
            return self.ready()

        wait_for(up, timeout, f"{self.name} ready (see {self.log_path})", 0.05)

    def log_since_start(self) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def send(self, signum: int) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole group, as a crash or an out-of-memory kill would."""
        with self.lock:
            self.wanted = False
            self.send(signal.SIGKILL)
            self._reap(15)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, wait for the exit (SIGKILL after `timeout`)."""
        with self.lock:
            self.wanted = False
        if self.running:
            self.send(signal.SIGCONT)  # a paused process cannot act on SIGTERM
            self.send(signal.SIGTERM)
            try:
                assert self.proc is not None
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.send(signal.SIGKILL)  # whatever is left of the group
        self._reap(15)

    def _reap(self, timeout: float) -> None:
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class Mongo(Child):
    """SecantusDB on a fixed port and data directory, so a restart finds the same data."""

    def __init__(self, name: str, storage: Path) -> None:
        super().__init__(name)
        launcher = find_secantusd()
        assert launcher, "secantusd-py not found (install requirements-dev.txt)"
        self.launcher = launcher
        self.port = free_port()
        self.storage = storage
        self.uri = f"mongodb://{HOST}:{self.port}"

    def argv(self) -> list[str]:
        return [
            self.launcher,
            *("--host", HOST, "--port", str(self.port), "--storage-path", str(self.storage)),
        ]

    def ready(self) -> bool:
        return mongo_answers(self.uri, 0.5)


class Redis(Child):
    """redis-server with an append-only file, as in docker-compose: a restart keeps the queue."""

    def __init__(self, name: str, directory: Path) -> None:
        super().__init__(name)
        binary = find_redis_server()
        assert binary, "redis-server not found (install requirements-dev.txt)"
        self.binary = binary
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://{HOST}:{self.port}/0"

    def argv(self) -> list[str]:
        return [
            self.binary,
            *("--bind", HOST, "--port", str(self.port), "--dir", str(self.directory)),
            *("--save", "", "--appendonly", "yes", "--appendfsync", "everysec"),
        ]

    def ready(self) -> bool:
        return redis_answers(self.url, 0.5)


class Api(Child):
    """The API under gunicorn as deployed (gunicorn.conf.py: 2 workers x 4 threads), stopping
    within 3 s; ready when its health check answers."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        super().__init__(name, env)
        self.port = free_port()

    def argv(self) -> list[str]:
        return [*gunicorn_command(), "-b", f"{HOST}:{self.port}", "--graceful-timeout", "3"]

    def ready(self) -> bool:
        reply = Client(self.port, "").call("GET", "/api/v1/healthcheck/ping", timeout=3)
        return reply.status == 200


class Worker(Child):
    """`celery worker`, prefork with two children."""

    def argv(self) -> list[str]:
        return [
            sys.executable,
            *("-m", "celery", "-A", "workers.app", "worker", "--pool=prefork", "--concurrency=2"),
            *("--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"),
            *("-n", f"{self.name}-{uuid.uuid4().hex[:6]}@%h"),
        ]

    def ready(self) -> bool:
        return "ready." in self.log_since_start()


class Beat(Child):
    """`celery beat`: sweeps outboxes every OUTBOX_SWEEP_SECONDS."""

    def __init__(self, name: str, env: dict[str, str], schedule: Path) -> None:
        super().__init__(name, env)
        self.schedule = schedule

    def argv(self) -> list[str]:
        return [
            sys.executable,
            *("-m", "celery", "-A", "workers.app", "beat", "--loglevel=INFO"),
            *("--schedule", str(self.schedule)),
        ]

    def ready(self) -> bool:
        return "beat: Starting" in self.log_since_start()


class Stack:
    """MongoDB, Redis, API, worker and beat of one test, in a temporary directory."""

    def __init__(self, name: str, **settings: str) -> None:
        self.name = name
        self.directory = Path(tempfile.mkdtemp(prefix=f"chaos-{name}-"))
        (self.directory / "mongo").mkdir()
        (self.directory / "redis").mkdir()
        self.mongo = Mongo(f"{name}-mongo", self.directory / "mongo")
        self.redis = Redis(f"{name}-redis", self.directory / "redis")
        env = {**os.environ}
        for variable in (
            *("TENURE_API_URL", "PERSON_API_URL", "WEBHOOK_URLS", "JWT_PUBLIC_KEY", "JWKS_URL"),
            "DEVELOPMENT_MODE",  # run as deployed, with keys of its own
        ):
            env.pop(variable, None)
        env.update(
            JWT_SECRET=secrets.token_urlsafe(32),
            SECRET_KEY=secrets.token_urlsafe(32),
            MONGO_URI=self.mongo.uri,
            MONGO_DB=DB_NAME,
            REDIS_URL=self.redis.url,
            EVENTS_STREAM=STREAM,
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            OUTBOX_GRACE_SECONDS="3",
            OUTBOX_SWEEP_SECONDS="1",
            BROKER_VISIBILITY_TIMEOUT="4",
            STEP_MAX_RETRIES="3",
            RETRY_BASE_SECONDS="0.2",
            RETRY_MAX_SECONDS="1",
        )
        env.update(settings)
        self.env = env
        self.api = Api(f"{name}-api", env)
        self.workers: list[Worker] = []
        self.beat = Beat(f"{name}-beat", env, self.directory / "beat-schedule")
        self._mongo_client: pymongo.MongoClient[dict[str, Any]] | None = None
        self._redis_client: redis.Redis | None = None
        self._closing = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        config = replace(from_env(), jwt_secret=env["JWT_SECRET"])
        self.token = mint(
            config, "chaos-officer", "Chaos Officer", "chaos@example.org", ["processes-admin"]
        )

    def start(self, workers: int = 1) -> None:
        """Start the servers, then the applications, each group in parallel."""
        for child in (self.mongo, self.redis):
            child.start(wait=False)
        for child in (self.mongo, self.redis):
            child.wait_ready()
        self.api.start(wait=False)
        self.beat.start(wait=False)
        for _ in range(workers):
            self.add_worker(wait=False)
        for child in (self.api, self.beat, *self.workers):
            child.wait_ready()
        self._supervisor.start()

    def _supervise(self) -> None:
        """Restart application processes that exit on their own, as docker-compose does
        (`restart: unless-stopped`): a Celery worker can die of a broker connection lost at
        an unlucky moment (kombu's Redis transport, "Unrecoverable error: AttributeError")."""
        while not self._closing.wait(0.5):
            for child in (self.api, self.beat, *self.workers):
                if child.restart_if_crashed():
                    print(f"[chaos] {child.name} exited on its own; restarted", file=sys.stderr)

    def crashes(self) -> int:
        """Application processes that exited on their own (and were restarted) so far."""
        return sum(child.crashes for child in (self.api, self.beat, *self.workers))

    def add_worker(self, wait: bool = True) -> Worker:
        worker = Worker(f"{self.name}-worker{len(self.workers)}", self.env)
        worker.start(wait)
        self.workers.append(worker)
        return worker

    @property
    def worker(self) -> Worker:
        return self.workers[0]

    def redelivered(self) -> int:
        """Tasks that workers received more than once (after a kill, or a sweep)."""
        received: Counter[str] = Counter()
        for worker in self.workers:
            text = worker.log_path.read_text(errors="replace")
            received.update(TASK_RECEIVED.findall(text))
        return sum(1 for count in received.values() if count > 1)

    def swept(self) -> int:
        """Follow-ups the outbox sweep re-dispatched, as its tasks reported in worker logs."""
        total = 0
        for worker in self.workers:
            text = worker.log_path.read_text(errors="replace")
            total += sum(int(n) for n in SWEEP_RESULT.findall(text))
        return total

    def client(self) -> Client:
        return Client(self.api.port, self.token)

    @property
    def db(self) -> pymongo.database.Database[dict[str, Any]]:
        if self._mongo_client is None:
            self._mongo_client = pymongo.MongoClient(
                self.mongo.uri, tz_aware=True, serverSelectionTimeoutMS=3000
            )
        return self._mongo_client[DB_NAME]

    @property
    def redis_client(self) -> redis.Redis:
        if self._redis_client is None:
            self._redis_client = redis.Redis.from_url(
                self.redis.url, decode_responses=True, socket_timeout=5
            )
        return self._redis_client

    def close(self) -> None:
        """Kill everything (the data goes with the directory) and remove the directory."""
        self._closing.set()
        if self._supervisor.is_alive():
            self._supervisor.join()
        for client in (self._mongo_client, self._redis_client):
            if client is not None:
                client.close()
        children = (self.api, *self.workers, self.beat, self.redis, self.mongo)
        for child in children:
            child.send(signal.SIGKILL)
        for child in children:
            child.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def running_stack(name: str, workers: int = 1, **settings: str) -> Iterator[Stack]:
    stack = Stack(name, **settings)
    try:
        stack.start(workers)
        yield stack
    finally:
        stack.close()


# --------------------------------------------------------------------------- HTTP


@dataclass
class Reply:
    status: int  # 0: no HTTP answer (connection refused or reset, timeout)
    headers: dict[str, str]
    body: bytes
    seconds: float
    error: str = ""

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def process(self) -> dict[str, Any]:
        """The process in a process response (the value under its process name)."""
        payload = self.json
        assert isinstance(payload, dict), (self.status, self.body[:300])
        assert len(payload) == 1, (self.status, self.body[:300])
        (body,) = payload.values()
        return dict(body)


class Client:
    """A JSON client of the API that answers every call with a Reply, never an exception."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 15.0,
        raw: bytes | None = None,
    ) -> Reply:
        started = time.monotonic()
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            content = response.read()
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                content,
                time.monotonic() - started,
            )
        except (OSError, http.client.HTTPException) as error:
            return Reply(
                0, {}, b"", time.monotonic() - started, f"{type(error).__name__}: {error}"
            )
        finally:
            connection.close()

    def upload(self, process_name: str, process_id: str, content: bytes, filename: str) -> Reply:
        """Attach a file, as a multipart/form-data POST with one `file` part."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.call(
            "POST",
            f"/api/v1/process/{process_name}/{process_id}/documents",
            raw=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    # The tenancy audit: AuditRequested -ScheduleVisit-> TenureCheckInProgress (automated step:
    # check_tenure_active) -> VisitScheduled -RecordVisit-> AuditPassed, or -> ProcessClosed
    # when the tenure has ended.

    def start_audit(self, tenure_id: str) -> Reply:
        return self.call(
            "POST",
            "/api/v1/process",
            {
                "processName": "tenancyaudit",
                "targetId": tenure_id,
                "targetType": "tenure",
                "relatedEntities": [],
                "formData": {},
                "documents": [],
                "assignment": {"patch": "E1"},
            },
        )

    def fire(
        self,
        process_name: str,
        process_id: str,
        trigger: str,
        form_data: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> Reply:
        return self.call(
            "PATCH",
            f"/api/v1/process/{process_name}/{process_id}",
            {"trigger": trigger, "formData": form_data, "documents": []},
            headers,
        )

    def schedule_visit(self, process_id: str) -> Reply:
        return self.fire(
            "tenancyaudit", process_id, "ScheduleVisit", {"appointmentDateTime": APPOINTMENT}
        )

    def record_visit(self, process_id: str) -> Reply:
        return self.fire("tenancyaudit", process_id, "RecordVisit", {"tenantSeen": True})


def keep_working(
    stack: Stack,
    tenures: list[str],
    journal: Journal,
    stop: threading.Event,
    answered_or_not: bool = False,
) -> None:
    """A client: start audits and move each on as far as it can go, until `stop` is set or
    the tenures run out. With `answered_or_not`, a request that got no answer (the API died)
    is not a failure; every HTTP answer but 200/201 always is."""
    client = stack.client()
    ok = (0, 200, 201) if answered_or_not else (200, 201)
    mine: list[str] = []
    while not stop.is_set():
        with journal.lock:
            if not tenures:
                return
            tenure = tenures.pop()
        reply = client.start_audit(tenure)
        process_id = journal.created_process(reply, tenure, ok)
        if process_id is None:
            if reply.status == 0:
                time.sleep(0.05)  # the API is restarting
            continue
        journal.fired(process_id, "ScheduleVisit", client.schedule_visit(process_id), ok)
        mine.append(process_id)
        # Record visits where the automated check has booked one (none while Redis is down).
        for other in list(mine):
            document = stack.db["processes"].find_one({"_id": other}, {"currentState.state": 1})
            if document and document["currentState"]["state"] == "VisitScheduled":
                journal.fired(other, "RecordVisit", client.record_visit(other), ok)
                mine.remove(other)


@contextlib.contextmanager
def clients_working(
    stack: Stack,
    tenures: list[str],
    journal: Journal,
    clients: int,
    answered_or_not: bool = False,
) -> Iterator[None]:
    """`clients` threads running `keep_working` for as long as the block runs; on leaving it,
    even by an exception, they are told to stop and are waited for."""
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=keep_working, args=(stack, tenures, journal, stop, answered_or_not)
        )
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


def finish_and_audit(
    stack: Stack, journal: Journal, tenures: dict[str, bool], timeout: float
) -> tuple[Findings, float]:
    """`finish_audits`, then `audit` every process against the end its tenure calls for;
    the findings and the seconds the audits took to finish."""
    finished_in = finish_audits(stack, journal, timeout)
    return audit(stack, journal, audit_final_state(tenures)), finished_in


def seed_tenures(db: Any, count: int, ended_every: int = 5) -> dict[str, bool]:
    """`count` tenures in the local records; every `ended_every`-th has ended. {id: active}."""
    tenures: dict[str, bool] = {}
    documents = []
    for i in range(count):
        tenure_id = str(uuid.uuid4())
        active = (i % ended_every) != ended_every - 1
        tenures[tenure_id] = active
        documents.append(
            {
                "_id": tenure_id,
                "isActive": active,
                "tenureType": {"code": "SEC", "description": "Secure"},
                "tenuredAsset": {"fullAddress": f"Flat {i}, 1 Chaos Street"},
                "endOfTenureDate": None if active else "2020-01-01",
            }
        )
    if documents:
        db["tenures"].insert_many(documents)
    return tenures


# --------------------------------------------------------------------------- journal


@dataclass
class Journal:
    """What clients were told: acknowledged creations and triggers, and every other answer."""

    created: dict[str, str] = field(default_factory=dict)  # process id -> tenure id
    acknowledged: list[tuple[str, str, int]] = field(default_factory=list)  # (id, trigger, v)
    answers: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # requests that did not succeed
    slowest: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, reply: Reply, ok: tuple[int, ...]) -> bool:
        with self.lock:
            self.answers[reply.status] += 1
            self.slowest = max(self.slowest, reply.seconds)
            if reply.status not in ok:
                detail = reply.error or reply.body[:200].decode(errors="replace")
                self.failures.append(f"{what}: {reply.status} {detail}")
                return False
            return True

    def created_process(
        self, reply: Reply, tenure_id: str, ok: tuple[int, ...] = (201,)
    ) -> str | None:
        if not self.note("start", reply, ok) or reply.status != 201:
            return None
        process = reply.process
        with self.lock:
            self.created[process["id"]] = tenure_id
        return str(process["id"])

    def fired(self, process_id: str, trigger: str, reply: Reply, ok: tuple[int, ...]) -> bool:
        if not self.note(f"{trigger} {process_id}", reply, ok):
            return False
        if reply.status == 200:
            with self.lock:
                self.acknowledged.append((process_id, trigger, int(reply.process["version"])))
        return True


# --------------------------------------------------------------------------- audit


@dataclass
class Findings:
    checked: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    restarted: int = 0
    """Application processes that exited on their own and were started again."""

    def summary(self, faults: int) -> str:
        return (
            f"faults: {faults} injected, processes checked {self.checked}, "
            f"lost {len(self.lost)}, duplicated {len(self.duplicated)}, "
            f"crashed and restarted {self.restarted}"
        )

    def details(self, limit: int = 20) -> str:
        lines = [f"lost: {x}" for x in self.lost[:limit]]
        lines += [f"duplicated: {x}" for x in self.duplicated[:limit]]
        return "\n".join(lines)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_stream(client: redis.Redis, stream: str = STREAM) -> list[dict[str, Any]]:
    """Every event on the stream, in order (duplicates included)."""
    found: list[dict[str, Any]] = []
    last = "-"
    while True:
        batch = client.xrange(stream, min=last, max="+", count=2000)
        if last != "-":
            batch = batch[1:]  # the boundary entry was read already
        if not batch:
            return found
        for entry_id, fields in batch:
            found.append(json.loads(fields["event"]))
            last = entry_id


def _writes(definition: ProcessDefinition, process: Any) -> int:
    """How many stored changes the process shows: each is one version."""
    states = process.states
    transitions = len(states) - 2  # the initial entry and the first state come with creation
    standalone = [a for a in process.activity if a.kind != "Assigned"]  # Assigned rides along
    flags = sum(1 for s in states if s.reminded)
    for index, entry in enumerate(states):
        if entry.overdue:
            following = states[index + 1] if index + 1 < len(states) else None
            timeout = definition.on_overdue.get(entry.state)
            if following is None or following.trigger != timeout:
                flags += 1
    return transitions + len(standalone) + flags


def expected_events(definition: ProcessDefinition, process: Any) -> Counter[tuple[Any, ...]]:
    """The events the process's stored history says were raised, as comparable keys."""
    expected: Counter[tuple[Any, ...]] = Counter()
    expected[("ProcessStartedEvent", process.id, None, None)] += 1
    expected[(events.STARTED_AGAINST[process.target_type], process.id, None, None)] += 1
    for entry in process.states[2:]:
        event_type = definition.state_events.get(entry.state, "ProcessUpdatedEvent")
        expected[(event_type, process.id, entry.state, iso(entry.created_at))] += 1
    kinds = {
        "Assigned": "ProcessAssigned",
        "StateDataUpdated": "ProcessUpdatedEvent",
        "AutomationFailed": "AutomationFailed",
    }
    for activity in process.activity:
        if activity.kind in kinds:
            expected[(kinds[activity.kind], process.id, None, None)] += 1
    return expected


def event_key(event: dict[str, Any]) -> tuple[Any, ...]:
    new = (event.get("eventData") or {}).get("newData") or {}
    if event["eventType"].startswith("ProcessStartedAgainst"):
        return (event["eventType"], new.get("id"), None, None)
    started = new.get("stateStartedAt")
    return (event["eventType"], event["entityId"], new.get("state") if started else None, started)


def audit(
    stack: Stack,
    journal: Journal | None = None,
    expected_state: Callable[[Any], str | None] | None = None,
    process_ids: set[str] | None = None,
) -> Findings:
    """Check every stored process (or those in `process_ids`) and the events stream.

    Lost: an acknowledged creation or trigger missing, a follow-up left in an outbox, an
    expected event missing from the stream, a process short of its expected state, a history
    that skips a step. Duplicated: a change or an event recorded twice.
    """
    findings = Findings(restarted=stack.crashes())
    stream = read_stream(stack.redis_client)
    by_id: Counter[str] = Counter(event["id"] for event in stream)
    findings.duplicated += [
        f"event id {i} on the stream {n} times" for i, n in by_id.items() if n > 1
    ]
    seen_ids: set[str] = set()
    actual: Counter[tuple[Any, ...]] = Counter()
    for event in stream:
        if event["id"] not in seen_ids:
            seen_ids.add(event["id"])
            actual[event_key(event)] += 1
    documents = {d["_id"]: d for d in stack.db["processes"].find({})}
    wanted = set(documents) if process_ids is None else process_ids
    if journal is not None:
        wanted |= set(journal.created)
        for process_id in journal.created:
            if process_id not in documents:
                findings.lost.append(f"process {process_id}: created (201) but not stored")
    expected_all: Counter[tuple[Any, ...]] = Counter()
    for process_id in sorted(wanted & set(documents)):
        document = documents[process_id]
        process = from_document(document)
        definition = registry()[process.process_name]
        findings.checked += 1
        where = f"process {process_id}"
        for item in document.get("outbox", []):
            findings.lost.append(f"{where}: follow-up {item['name']} {item['id']} still in outbox")
        states = process.states
        for before, after in zip(states, states[1:], strict=False):
            try:
                target = definition.run(before.state, after.trigger or "", after.form_data)
            except Exception as error:  # noqa: BLE001 - any failure is an invalid history
                target = f"<{type(error).__name__}>"
            if target != after.state:
                findings.lost.append(
                    f"{where}: {before.state} -{after.trigger}-> {after.state} is no transition"
                )
        current = process.current_state
        if current.permitted_triggers != definition.permitted_triggers(current.state):
            findings.lost.append(f"{where}: permittedTriggers do not match {current.state}")
        writes = _writes(definition, process)
        if process.version != writes:
            bucket = findings.duplicated if process.version > writes else findings.lost
            bucket.append(f"{where}: version {process.version} but {writes} changes recorded")
        for index, entry in enumerate(states):
            step = definition.automated_step_by_state.get(entry.state)
            if step is None or index + 1 >= len(states):
                continue
            if states[index + 1].trigger not in step.outcomes:
                findings.lost.append(f"{where}: step {step.step} at {entry.state} has no outcome")
        outcomes = Counter(
            (entry.trigger, iso(entry.created_at)) for entry in states if entry.trigger
        )
        findings.duplicated += [f"{where}: {k} twice" for k, n in outcomes.items() if n > 1]
        if expected_state is not None:
            want = expected_state(process)
            if want is not None and process.state != want:
                findings.lost.append(f"{where}: at {process.state}, expected {want}")
        expected_all.update(expected_events(definition, process))
    if journal is not None:
        for process_id, trigger, version in journal.acknowledged:
            document = documents.get(process_id)
            if document is None:
                continue
            process = from_document(document)
            if process.version < version or not any(e.trigger == trigger for e in process.states):
                findings.lost.append(
                    f"process {process_id}: acknowledged {trigger} v{version} missing"
                )
    for key, count in expected_all.items():
        have = actual.get(key, 0)
        if have < count:
            findings.lost.append(f"event {key} missing from the stream")
        elif have > count:
            findings.duplicated.append(f"event {key} on the stream {have} times")
    return findings


def settled(stack: Stack) -> bool:
    """No follow-up in any outbox and no automated step waiting."""
    processes = stack.db["processes"]
    if processes.count_documents({"outbox.0": {"$exists": True}}, limit=1):
        return False
    return not processes.count_documents({"currentState.state": "TenureCheckInProgress"}, limit=1)


def finish_audits(stack: Stack, journal: Journal, timeout: float) -> float:
    """Drive every tenancy audit to its end (scheduling and recording visits as needed) and
    wait until outboxes are empty and the stream holds every expected event."""
    client = stack.client()

    def done() -> bool:
        pending = 0
        for document in stack.db["processes"].find(
            {"currentState.state": {"$in": ["AuditRequested", "VisitScheduled"]}},
            {"currentState.state": 1},
        ):
            pending += 1
            if document["currentState"]["state"] == "AuditRequested":
                journal.fired(
                    document["_id"],
                    "ScheduleVisit",
                    client.schedule_visit(document["_id"]),
                    (200, 409),
                )
            else:
                journal.fired(
                    document["_id"],
                    "RecordVisit",
                    client.record_visit(document["_id"]),
                    (200, 409),
                )
        if pending or not settled(stack):
            return False
        findings = audit(stack)
        return not any("missing from the stream" in x for x in findings.lost)

    def explain() -> str:
        states = Counter(
            (d["currentState"]["state"], (d["currentState"].get("automation") or {}).get("status"))
            for d in stack.db["processes"].find({}, {"currentState": 1})
        )
        outboxes = stack.db["processes"].count_documents({"outbox.0": {"$exists": True}})
        findings = audit(stack)
        return (
            f"(state, automation): {dict(states)}; {outboxes} outboxes not empty; "
            f"{findings.details(5)}"
        )

    return wait_for(
        done, timeout, "every audit finished, outboxes empty, events on the stream", 0.5, explain
    )


def audit_final_state(tenures: dict[str, bool]) -> Callable[[Any], str | None]:
    def expected(process: Any) -> str | None:
        active = tenures.get(process.target_id)
        if active is None:
            return None
        return "AuditPassed" if active else "ProcessClosed"

    return expected
