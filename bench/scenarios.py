"""The four scenarios of docs/performance.md, each measured beside its baseline in one run."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pymongo
from pymongo.database import Database

from bench.environment import Environment
from bench.load import Http, HttpError, Samples, percentile, run_clients

API = "/api/v1"
APPOINTMENT = {"appointmentDateTime": "2031-03-03T10:30:00"}

# A change of name driven through ten client transitions, no automated step on the way:
# name entered, documents asked for and reviewed, investigation, interview, approval.
TRANSITIONS: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "EnterNewName",
        {"title": "Ms", "firstName": "Patricia", "middleName": "", "surname": "Williams"},
        [],
    ),
    ("RequestDocumentsDes", {}, []),
    ("RequestDocumentsAppointment", APPOINTMENT, ["5a1d7a6e-8f42-4c1b-9e0a-0c9f2d1e3b4a"]),
    ("RescheduleDocumentsAppointment", APPOINTMENT, []),
    (
        "ReviewDocuments",
        {"seenPhotographicId": True, "seenSecondId": True, "atLeastOneDocument": True},
        [],
    ),
    ("SubmitApplication", {}, []),
    ("TenureInvestigation", {"tenureInvestigationRecommendation": "appointment"}, []),
    ("ScheduleInterview", APPOINTMENT, []),
    ("RescheduleInterview", APPOINTMENT, []),
    ("HOApproval", {"hoRecommendation": "approve", "housingAreaManagerName": "Jo Bloggs"}, []),
]


def new_process_body(process_name: str, target_id: str | None = None) -> dict[str, Any]:
    return {
        "processName": process_name,
        "targetId": target_id or str(uuid.uuid4()),
        "relatedEntities": [
            {"id": str(uuid.uuid4()), "targetType": "person", "subType": "tenant"}
        ],
        "assignment": {"patch": "E1"},
    }


# --------------------------------------------------------------------------- 1. transitions


def product_transitions(http: Http, samples: Samples) -> None:
    began = time.perf_counter()
    _, body = http.request("POST", f"{API}/process", new_process_body("changeofname"), 201)
    samples.starts.append(time.perf_counter() - began)
    process_id = body["changeofname"]["id"]
    path = f"{API}/process/changeofname/{process_id}"
    for trigger, form, documents in TRANSITIONS:
        began = time.perf_counter()
        http.request(
            "PATCH", path, {"trigger": trigger, "formData": form, "documents": documents}, 200
        )
        samples.add(time.perf_counter() - began)


def baseline_transitions(http: Http, samples: Samples) -> None:
    began = time.perf_counter()
    _, body = http.request("POST", "/process", new_process_body("changeofname"), 201)
    samples.starts.append(time.perf_counter() - began)
    path = f"/process/{body['id']}"
    for trigger, form, documents in TRANSITIONS:
        began = time.perf_counter()
        http.request(
            "PATCH", path, {"trigger": trigger, "formData": form, "documents": documents}, 200
        )
        samples.add(time.perf_counter() - began)


def prepare_baseline(env: Environment) -> None:
    """Give the baseline's collection the product's indexes: the same round trips then cost
    the store the same work (index upkeep is most of a write's cost on SecantusDB)."""
    from storage.processes import INDEXES

    client: pymongo.MongoClient = pymongo.MongoClient(env.mongo_uri)
    try:
        client[env.baseline_db]["processes"].create_indexes(INDEXES)
    finally:
        client.close()


def transitions(env: Environment, token: str, levels: list[int], seconds: float) -> dict[str, Any]:
    """Transitions/s and latency at each concurrency, product and baseline, alternately."""
    product = lambda: Http(env.api_port, token)  # noqa: E731
    baseline = lambda: Http(env.baseline_port)  # noqa: E731
    # Warm both (imports, definitions, validators, connection pools) before measuring.
    run_clients(2, product, product_transitions, min(seconds, 2.0), 3)
    run_clients(2, baseline, baseline_transitions, min(seconds, 2.0), 3)
    results: dict[str, Any] = {}
    rounds = max(1, round(seconds / TRANSITION_ROUND_SECONDS))
    for clients in levels:
        measured, ours = Samples(), Samples()
        baseline_cpu: dict[str, float] = {}
        product_cpu: dict[str, float] = {}
        for round_ in range(rounds):
            # Baseline and product take turns (B P, P B, B P...), so that the shared machine's
            # changes in speed over the run fall on both alike.
            turns = [
                (measured, baseline_cpu, baseline, baseline_transitions),
                (ours, product_cpu, product, product_transitions),
            ]
            for total, cpu, make, job in turns if round_ % 2 == 0 else reversed(turns):
                samples, spent = _with_cpu(
                    env, partial(run_clients, clients, make, job, seconds / rounds)
                )
                total.extend(samples)
                total.elapsed += samples.elapsed
                for name, value in spent.items():
                    cpu[name] = cpu.get(name, 0.0) + value
        row: dict[str, Any] = {"product": ours.summary(), "baseline": measured.summary()}
        row["product"]["cpu_ms_per_transition"] = _per(product_cpu, ours.count)
        row["baseline"]["cpu_ms_per_transition"] = _per(baseline_cpu, measured.count)
        row["throughput_ratio"] = _ratio(ours.rate(), measured.rate())
        row["p50_ratio"] = _ratio(row["product"]["p50_ms"], row["baseline"]["p50_ms"])
        results[str(clients)] = row
        _say(
            f"transitions c={clients}: product {ours.rate():.0f}/s p50 "
            f"{row['product']['p50_ms']} ms, baseline {measured.rate():.0f}/s "
            f"p50 {row['baseline']['p50_ms']} ms, ratio {row['throughput_ratio']}"
        )
    return results


# --------------------------------------------------------------------------- 2. automation


@dataclass
class Flow:
    """How to start, trigger and recognise the end of one automated instance."""

    http: Callable[[], Http]
    db: Database
    create: Callable[[Http], str]
    enter: Callable[[Http, str], None]
    done_state: str


def _done_times(db: Database, ids: list[str], state: str) -> dict[str, float]:
    done: dict[str, float] = {}
    for chunk in range(0, len(ids), 500):
        cursor = db["processes"].find(
            {"_id": {"$in": ids[chunk : chunk + 500]}, "currentState.state": state},
            {"currentState.createdAt": 1},
        )
        for document in cursor:
            done[document["_id"]] = document["currentState"]["createdAt"].timestamp()
    return done


def _wait_done(flow: Flow, ids: list[str], timeout: float, poll: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    done: dict[str, float] = {}
    while time.monotonic() < deadline:
        done = _done_times(flow.db, ids, flow.done_state)
        if len(done) == len(ids):
            break
        time.sleep(poll)
    return done


def _sequential(flow: Flow, ids: list[str]) -> Samples:
    """One instance at a time: request, then wait until the automated outcome is stored."""
    samples = Samples()
    http = flow.http()
    began_all = time.perf_counter()
    for process_id in ids:
        began = time.time()
        flow.enter(http, process_id)
        done = _wait_done(flow, [process_id], 30.0, 0.002)
        if process_id in done:
            samples.add(done[process_id] - began)
        else:
            samples.errors += 1
    samples.elapsed = time.perf_counter() - began_all
    http.close()
    return samples


def _concurrent(flow: Flow, ids: list[str], clients: int) -> Samples:
    """`clients` threads enter their share of instances as fast as they can; the rate is
    completed instances over the time from the first request to the last outcome stored."""
    started: dict[str, float] = {}
    lock = threading.Lock()
    shares = [ids[i::clients] for i in range(clients)]

    def client(share: list[str]) -> None:
        http = flow.http()
        for process_id in share:
            began = time.time()
            try:
                flow.enter(http, process_id)
            except (HttpError, OSError):
                continue
            with lock:
                started[process_id] = began
        http.close()

    threads = [threading.Thread(target=client, args=(s,), daemon=True) for s in shares]
    first = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    done = _wait_done(flow, ids, 120.0, 0.1)
    samples = Samples()
    for process_id, began in started.items():
        if process_id in done:
            samples.add(done[process_id] - began)
    samples.errors = len(ids) - samples.count
    samples.elapsed = (max(done.values()) - first) if done else 0.0
    return samples


def automation(
    env: Environment, token: str, sequential: int, concurrent: int, clients: int
) -> dict[str, Any]:
    """Time from the request entering a state with an automated step to its outcome stored."""
    from storage.local_services import DEMO_SOLE_TENURE_ID, seed_demo

    client: pymongo.MongoClient = pymongo.MongoClient(env.mongo_uri, tz_aware=True)
    product_db, baseline_db = client[env.product_db], client[env.baseline_db]
    seed_demo(product_db)
    seed_demo(baseline_db)

    def product_create(http: Http) -> str:
        body = new_process_body("tenancyaudit", DEMO_SOLE_TENURE_ID)
        body["relatedEntities"] = []
        _, created = http.request("POST", f"{API}/process", body, 201)
        return str(created["tenancyaudit"]["id"])

    def product_enter(http: Http, process_id: str) -> None:
        http.request(
            "PATCH",
            f"{API}/process/tenancyaudit/{process_id}",
            {"trigger": "ScheduleVisit", "formData": APPOINTMENT},
            200,
        )

    def baseline_create(http: Http) -> str:
        body = new_process_body("tenancyaudit", DEMO_SOLE_TENURE_ID)
        _, created = http.request("POST", "/process", body, 201)
        return str(created["id"])

    def baseline_enter(http: Http, process_id: str) -> None:
        http.request("POST", f"/process/{process_id}/automate", APPOINTMENT, 200)

    flows = {
        "product": Flow(
            lambda: Http(env.api_port, token),
            product_db,
            product_create,
            product_enter,
            "VisitScheduled",
        ),
        "baseline": Flow(
            lambda: Http(env.baseline_port),
            baseline_db,
            baseline_create,
            baseline_enter,
            "Checked",
        ),
    }
    ids: dict[str, list[str]] = {}
    for name, flow in flows.items():
        http = flow.http()
        ids[name] = [flow.create(http) for _ in range(sequential + concurrent + 3)]
        http.close()
        _sequential(flow, ids[name][:3])  # warm-up: worker imports, connections
    results: dict[str, Any] = {"sequential": {}, "concurrent": {}}
    for name in ("baseline", "product"):
        chosen = ids[name][3 : 3 + sequential]
        results["sequential"][name] = _sequential(flows[name], chosen).summary()
    for name in ("baseline", "product"):
        chosen = ids[name][3 + sequential :]
        results["concurrent"][name] = _concurrent(flows[name], chosen, clients).summary()
    for mode in ("sequential", "concurrent"):
        row = results[mode]
        row["p50_ratio"] = _ratio(row["product"]["p50_ms"], row["baseline"]["p50_ms"])
        row["p99_ratio"] = _ratio(row["product"]["p99_ms"], row["baseline"]["p99_ms"])
        row["throughput_ratio"] = _ratio(
            row["product"]["per_second"], row["baseline"]["per_second"]
        )
        _say(
            f"automation {mode}: product p50 {row['product']['p50_ms']} ms "
            f"{row['product']['per_second']}/s, baseline p50 {row['baseline']['p50_ms']} ms "
            f"{row['baseline']['per_second']}/s, latency ratio {row['p50_ratio']}"
        )
    results["concurrent"]["clients"] = clients
    client.close()
    return results


# --------------------------------------------------------------------------- 3. scale

PATCHES = 200
"""Patches the bulk-loaded processes are spread over (a borough's worth)."""
PROCESSES_PER_TARGET = 3
OPEN_DAYS = timedelta(days=35)
VISIT_LIMIT = timedelta(days=28)
"""tenancyaudit's time limit for VisitScheduled (its dueAt is the state's start plus this)."""
QUERY_BUDGET_SECONDS = 60.0
TRANSITION_ROUND_SECONDS = 5.0
"""The transition scenario measures each level in rounds of about this long per side."""
QUIET_CPU = 0.1
QUIET_WAIT_SECONDS = 300.0


def _bulk_documents(start: int, stop: int, now: datetime) -> list[dict[str, Any]]:
    """Processes numbered [start, stop), shaped exactly as the repository stores them."""
    from machines.model import Process, StateEntry
    from storage.processes import to_document

    officer = {"id": "officer-1", "name": "Bench Officer", "email": "bench@example.org"}
    documents = []
    for number in range(start, stop):
        created = now - timedelta(minutes=number % 500_000)
        # Spread independently over 200 patches and 40 officers. As in a working team, cases
        # still open are recent ones: 30 % of those started in the last OPEN_DAYS (a week of
        # them past their 28-day deadline); older ones are closed, three days after starting.
        assignment = {
            "patch": f"P{number % PATCHES:03d}",
            "officerId": f"officer-{(number // PATCHES) % 40}",
        }
        open_case = (number // PATCHES) % 10 < 3 and now - created < OPEN_DAYS

        def entry(state: str, trigger: str | None, at: datetime, assigned: dict) -> StateEntry:
            return StateEntry(
                state=state,
                permitted_triggers=["RecordVisit", "ReferBreach", "RecordNoAccess"]
                if state == "VisitScheduled"
                else [],
                assignment=dict(assigned),
                form_data=dict(APPOINTMENT) if trigger else {},
                documents=[],
                trigger=trigger,
                acted_by=officer,
                created_at=at,
                updated_at=at,
                due_at=at + VISIT_LIMIT if state == "VisitScheduled" else None,
            )

        history = [
            entry("ApplicationInitialised", None, created, assignment),
            entry("AuditRequested", "StartApplication", created, assignment),
            entry(
                "TenureCheckInProgress",
                "ScheduleVisit",
                created + timedelta(seconds=1),
                assignment,
            ),
        ]
        current = (
            entry("VisitScheduled", "TenureActive", created + timedelta(seconds=2), assignment)
            if open_case
            else entry(
                "AuditPassed", "RecordVisit", min(created + timedelta(days=3), now), assignment
            )
        )
        process = Process(
            id=str(uuid.UUID(int=number + 1)),
            process_name="tenancyaudit",
            target_id=str(uuid.UUID(int=(1 << 64) + number // PROCESSES_PER_TARGET)),
            target_type="tenure",
            related_entities=[],
            current_state=current,
            previous_states=history,
            definition_version=1,
            created_at=created,
            updated_at=current.updated_at,
            created_by=officer,
            version=len(history),
        )
        documents.append(to_document(process))
    return documents


def _load(db: Database, start: int, stop: int, now: datetime) -> dict[str, float]:
    """Insert processes [start, stop) with no index, then build the repository's indexes."""
    from storage.processes import INDEXES

    collection = db["processes"]
    collection.drop_indexes()
    began = time.perf_counter()
    batch = 5000
    for first in range(start, stop, batch):
        collection.insert_many(
            _bulk_documents(first, min(first + batch, stop), now), ordered=False
        )
        if (first - start) % 100_000 == 0 and first > start:
            _say(f"scale: {first:,} loaded, {time.perf_counter() - began:.0f}s")
    inserted = time.perf_counter()
    collection.create_indexes(INDEXES)
    indexed = time.perf_counter()
    return {
        "inserted": stop - start,
        "insert_seconds": round(inserted - began, 1),
        "index_seconds": round(indexed - inserted, 1),
        "docs_per_second": round((stop - start) / (indexed - began), 1),
    }


def _queries(size: int) -> dict[str, Callable[[random.Random], Any]]:
    from machines.queries import ProcessQuery

    def by_target(rng: random.Random) -> Any:
        target = rng.randrange(size // PROCESSES_PER_TARGET)
        return ProcessQuery(target_id=str(uuid.UUID(int=(1 << 64) + target))), 10

    def worktray(rng: random.Random) -> Any:
        patch = f"P{rng.randrange(PATCHES):03d}"
        return ProcessQuery(patch=patch, sort="updatedAt"), 20

    def worktray_open(rng: random.Random) -> Any:
        patch = f"P{rng.randrange(PATCHES):03d}"
        return ProcessQuery(patch=patch, state="VisitScheduled", sort="dueAt"), 20

    return {"list_by_target": by_target, "worktray": worktray, "worktray_open": worktray_open}


def _measure_queries(
    db: Database, size: int, repeats: int, warm_up_seconds: float
) -> dict[str, Any]:
    """Time each query kind in rounds, one of each per round, so that background work of
    the store (a checkpoint after the load) falls on every kind alike; after a warm-up."""
    from services.paging import PageTokens
    from services.processes import search
    from storage import ProcessRepository

    repo = ProcessRepository(db)
    tokens = PageTokens(uuid.uuid4().hex)
    rng = random.Random(size)
    kinds = _queries(size)
    warm_until = time.perf_counter() + warm_up_seconds
    while time.perf_counter() < warm_until:  # the cache and the plans, for every kind
        for make in kinds.values():
            query, page = make(rng)
            search(repo, query, page, None, tokens)
    samples = {name: Samples() for name in kinds}
    rows = dict.fromkeys(kinds, 0)
    began_all = time.perf_counter()
    for done in range(repeats):
        if done >= 10 and time.perf_counter() - began_all > QUERY_BUDGET_SECONDS:
            break  # slow queries at a large size: enough samples for a median
        for name, make in kinds.items():
            query, page = make(rng)
            began = time.perf_counter()
            rows[name] += len(search(repo, query, page, None, tokens).processes)
            samples[name].add(time.perf_counter() - began)
    results: dict[str, Any] = {}
    for name, make in kinds.items():
        samples[name].elapsed = time.perf_counter() - began_all
        query, _ = make(rng)
        results[name] = {
            **samples[name].summary(),
            "rows_per_query": round(rows[name] / max(samples[name].count, 1), 1),
            "plan": _plan_summary(repo.explain(query)),
        }
    return results


def _plan_summary(plan: dict[str, Any]) -> dict[str, Any]:
    stages: list[str] = []
    indexes: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "stage" in node:
                stages.append(str(node["stage"]))
                if node.get("indexName"):
                    indexes.append(str(node["indexName"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(plan.get("queryPlanner", {}).get("winningPlan", {}))
    return {
        "stages": stages,
        "indexes": indexes,
        "uses_index": "IXSCAN" in stages and "COLLSCAN" not in stages,
    }


def _wait_for_quiet_store(env: Environment, quiet_seconds: float) -> float:
    """Wait (up to QUIET_WAIT_SECONDS) until the store has used under QUIET_CPU of a core for
    `quiet_seconds` running: after a large load it goes on working in the background (index
    builds settle, pages are written), and queries timed meanwhile measure that work too.
    Returns the seconds waited."""
    began = time.perf_counter()
    quiet_since = began
    last = env.cpu_seconds().get("mongo", 0.0)
    while time.perf_counter() - began < QUIET_WAIT_SECONDS:
        time.sleep(1.0)
        now_cpu = env.cpu_seconds().get("mongo", 0.0)
        if now_cpu - last > QUIET_CPU:
            quiet_since = time.perf_counter()
        elif time.perf_counter() - quiet_since >= quiet_seconds:
            break
        last = now_cpu
    waited = round(time.perf_counter() - began, 1)
    _say(f"scale: the store was quiet after {waited}s")
    return waited


def scale(
    env: Environment,
    sizes: list[int],
    repeats: int,
    warm_up_seconds: float,
    quiet_seconds: float,
) -> dict[str, Any]:
    """List-by-target and worktray queries at each size, loaded directly into the store."""
    client: pymongo.MongoClient = pymongo.MongoClient(env.mongo_uri, tz_aware=True)
    db = client[env.scale_db]
    now = datetime.now(UTC).replace(microsecond=0)
    results: dict[str, Any] = {"sizes": {}}
    loaded = 0
    for size in sorted(sizes):
        load = _load(db, loaded, size, now)
        loaded = size
        _say(f"scale: {size:,} processes, load {load}")
        quiet_after = _wait_for_quiet_store(env, quiet_seconds)
        results["sizes"][str(size)] = {
            "load": {**load, "quiet_after_seconds": quiet_after},
            "queries": _measure_queries(db, size, repeats, warm_up_seconds),
        }
    smallest, largest = str(min(sizes)), str(max(sizes))
    ratios = {}
    for name in results["sizes"][smallest]["queries"]:
        small = results["sizes"][smallest]["queries"][name]
        large = results["sizes"][largest]["queries"][name]
        ratios[name] = {
            "p50_ratio": _ratio(large["p50_ms"], small["p50_ms"]),
            "p95_ratio": _ratio(large["p95_ms"], small["p95_ms"]),
            "uses_index": small["plan"]["uses_index"] and large["plan"]["uses_index"],
        }
        _say(
            f"scale {name}: p50 {small['p50_ms']} ms at {smallest}, {large['p50_ms']} ms at "
            f"{largest}, ratio {ratios[name]['p50_ratio']}, index {large['plan']['indexes']}"
        )
    results["ratios"] = ratios
    client.drop_database(env.scale_db)
    client.close()
    return results


# --------------------------------------------------------------------------- 4. memory


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


MEMORY_GROUPS = {
    "api": "api",
    "worker": "worker",
    "beat": "beat",
    "baseline_api": "baseline-api",
    "baseline_worker": "baseline-worker",
}


def memory(env: Environment) -> dict[str, Any]:
    """RSS of each app process (gunicorn master and workers, Celery main and pool)."""
    found: dict[str, Any] = {}
    for key, name in MEMORY_GROUPS.items():
        per_process = [round(rss_mb(pid), 1) for pid in env.pids(name)]
        found[key] = {"total_mb": round(sum(per_process), 1), "processes_mb": per_process}
    found["api_ratio"] = _ratio(found["api"]["total_mb"], found["baseline_api"]["total_mb"])
    found["worker_ratio"] = _ratio(
        found["worker"]["total_mb"], found["baseline_worker"]["total_mb"]
    )
    _say(
        f"memory: API {found['api']['total_mb']} MB (baseline {found['baseline_api']['total_mb']})"
        f", worker {found['worker']['total_mb']} MB "
        f"(baseline {found['baseline_worker']['total_mb']})"
    )
    return found


def soak(env: Environment, token: str, seconds: float, clients: int) -> dict[str, Any]:
    """Keep both stacks busy for `seconds` and sample their memory: it should not grow."""
    interval = max(1.0, seconds / 60)
    samples: list[dict[str, float]] = []
    stop = threading.Event()
    began = time.monotonic()

    def sample() -> None:
        while not stop.is_set():
            row = {"t": round(time.monotonic() - began, 1)}
            for key, name in MEMORY_GROUPS.items():
                row[key] = round(sum(rss_mb(pid) for pid in env.pids(name)), 1)
            samples.append(row)
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    done: dict[str, Samples] = {}

    def drive(name: str, make: Callable[[], Http], job: Callable[[Http, Samples], None]) -> None:
        done[name] = run_clients(clients, make, job, seconds, 1_000_000)

    drivers = [
        threading.Thread(
            target=drive,
            args=("product", lambda: Http(env.api_port, token), product_transitions),
        ),
        threading.Thread(
            target=drive, args=("baseline", lambda: Http(env.baseline_port), baseline_transitions)
        ),
    ]
    for driver in drivers:
        driver.start()
    for driver in drivers:
        driver.join(seconds + 300)
    stop.set()
    sampler.join(10)
    growth: dict[str, dict[str, Any]] = {}
    no_growth = True
    # Compare the first and last fifths after a warm-up fifth.
    fifth = max(1, len(samples) // 5)
    for key in MEMORY_GROUPS:
        early = [row[key] for row in samples[fifth : 2 * fifth]] or [samples[0][key]]
        late = [row[key] for row in samples[-fifth:]]
        start_mb, end_mb = sum(early) / len(early), sum(late) / len(late)
        growth[key] = {
            "start_mb": round(start_mb, 1),
            "end_mb": round(end_mb, 1),
            "growth_mb": round(end_mb - start_mb, 1),
            "growth_ratio": _ratio(end_mb, start_mb),
        }
        no_growth = no_growth and end_mb - start_mb <= max(5.0, 0.05 * start_mb)
    result = {
        "seconds": seconds,
        "clients_each": clients,
        "transitions": {name: s.summary() for name, s in done.items()},
        "growth": growth,
        "samples": samples,
        "no_growth": no_growth,
    }
    _say("soak: " + ", ".join(f"{k} {g['start_mb']}->{g['end_mb']} MB" for k, g in growth.items()))
    return result


def _with_cpu(env: Environment, run: Callable[[], Samples]) -> tuple[Samples, dict[str, float]]:
    """Run `run` and return what it measured and the CPU seconds each process spent meanwhile
    (the load generator is `client`)."""
    before, client_before = env.cpu_seconds(), time.process_time()
    samples = run()
    after, client_after = env.cpu_seconds(), time.process_time()
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    spent["client"] = client_after - client_before
    return samples, spent


def _per(cpu: dict[str, float], count: int) -> dict[str, float]:
    """CPU milliseconds per operation, by process, for those that spent any."""
    if not count:
        return {}
    shares = {name: round(1000 * seconds / count, 2) for name, seconds in cpu.items()}
    shares = {name: value for name, value in shares.items() if value >= 0.01}
    shares["total"] = round(sum(shares.values()), 2)
    return shares


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def _say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


__all__ = ["automation", "memory", "percentile", "scale", "soak", "transitions"]
