"""The headline figure: the API's CPU per transition beside a bare endpoint's, one client.

One trigger that re-enters its own state (a rebooked interview) is sent again and again to
cases that already hold a history, short (about ten states) and long-lived (about a
hundred), by one client: to the product's API and to the baseline (bench/baseline_app.py:
one read, one version-conditioned write), in alternating rounds. The figure is the CPU
time the serving processes spent (from /proc, gunicorn's master and workers together)
divided by the transitions sent, and the one-client throughput beside it. Both servers
read the same documents: the baseline's cases are copies of the product's.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pymongo

from bench.environment import Environment
from bench.load import Http
from bench.scenarios import API, APPOINTMENT, TRANSITIONS, new_process_body

TRIGGER = "RescheduleInterview"
"""Re-enters InterviewRescheduled: a case can take it any number of times."""
LENGTHS = {"short": 10, "long": 100}
"""How many states each kind of case holds before it is measured."""


def _walk(http: Http, states: int) -> str:
    """Start a change of name and walk it to InterviewRescheduled holding `states` states."""
    _, body = http.request("POST", f"{API}/process", new_process_body("changeofname"), 201)
    process_id = body["changeofname"]["id"]
    path = f"{API}/process/changeofname/{process_id}"
    walk = [step for step in TRANSITIONS if step[0] != "HOApproval"]
    for trigger, form, documents in walk:
        http.request(
            "PATCH", path, {"trigger": trigger, "formData": form, "documents": documents}, 200
        )
    for _ in range(states - len(walk) - 1):
        http.request("PATCH", path, {"trigger": TRIGGER, "formData": APPOINTMENT}, 200)
    return process_id


def _copies(env: Environment, source: str, count: int) -> tuple[list[str], list[str]]:
    """`count` copies of one case in the product's store and in the baseline's."""
    client: pymongo.MongoClient = pymongo.MongoClient(env.mongo_uri, tz_aware=True)
    try:
        document = client[env.product_db]["processes"].find_one({"_id": source})
        assert document is not None
        document.pop("outbox", None)
        ids: dict[str, list[str]] = {}
        for db in (env.product_db, env.baseline_db):
            copies = [{**document, "_id": str(uuid.uuid4())} for _ in range(count)]
            client[db]["processes"].insert_many(copies)
            ids[db] = [copy["_id"] for copy in copies]
        return ids[env.product_db], ids[env.baseline_db]
    finally:
        client.close()


def _drive(
    env: Environment, name: str, http: Http, paths: list[str], each: int
) -> tuple[float, float, int]:
    """Send the trigger `each` times to every case; CPU seconds, wall seconds, count."""
    body = {"trigger": TRIGGER, "formData": APPOINTMENT}
    cpu, wall = env.cpu_seconds()[name], time.perf_counter()
    for _ in range(each):
        for path in paths:
            http.request("PATCH", path, body, 200)
    return env.cpu_seconds()[name] - cpu, time.perf_counter() - wall, each * len(paths)


def cpu_per_transition(
    env: Environment, token: str, cases: int, each: int, rounds: int
) -> dict[str, Any]:
    """Per length of case: CPU ms per transition and transitions/s, product and baseline."""
    product, baseline = Http(env.api_port, token), Http(env.baseline_port)
    results: dict[str, Any] = {}
    for length, states in LENGTHS.items():
        ours, theirs = _copies(env, _walk(product, states), cases)
        sides = {
            "product": ("api", product, [f"{API}/process/changeofname/{i}" for i in ours]),
            "baseline": ("baseline-api", baseline, [f"/process/{i}" for i in theirs]),
        }
        spent = {side: (0.0, 0.0, 0) for side in sides}
        _drive(env, *sides["product"], 1)  # warm both: imports, caches, connections
        _drive(env, *sides["baseline"], 1)
        for round_ in range(rounds):
            order = ["baseline", "product"] if round_ % 2 == 0 else ["product", "baseline"]
            for side in order:
                cpu, wall, count = _drive(env, *sides[side], max(1, each // rounds))
                total_cpu, total_wall, total_count = spent[side]
                spent[side] = (total_cpu + cpu, total_wall + wall, total_count + count)
        row: dict[str, Any] = {"states_before": states}
        for side, (cpu, wall, count) in spent.items():
            row[side] = {
                "transitions": count,
                "cpu_ms": round(1000 * cpu / count, 3),
                "per_second": round(count / wall, 1),
            }
        row["cpu_ratio"] = round(row["product"]["cpu_ms"] / row["baseline"]["cpu_ms"], 3)
        row["throughput_ratio"] = round(
            row["product"]["per_second"] / row["baseline"]["per_second"], 3
        )
        results[length] = row
        print(
            f"[bench] CPU per transition, {length} cases ({states} states): product "
            f"{row['product']['cpu_ms']} ms, baseline {row['baseline']['cpu_ms']} ms, "
            f"ratio {row['cpu_ratio']}; one client {row['product']['per_second']}/s vs "
            f"{row['baseline']['per_second']}/s, ratio {row['throughput_ratio']}",
            flush=True,
        )
    product.close()
    baseline.close()
    return results
