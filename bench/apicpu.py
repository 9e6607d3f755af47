"""CPU the API spends per transition, measured in process: `python -m bench.apicpu`.

Starts the benchmark stack (for its MongoDB, Redis and worker), builds the app in this
process with the production dispatcher, and drives processes through the ten transitions of
the HTTP scenario with Flask's test client, one thread, no network on the client side. The
figure is this process's CPU time (`time.process_time`) per transition: the product's own
work per request, including its pymongo and Celery client calls, without gunicorn and
without the noise of other processes sharing the cores. Best of `--rounds`. Each round also
reports the store commands this process sent and the store's CPU, per transition.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter

from pymongo import monitoring

from bench.environment import started
from bench.scenarios import TRANSITIONS, new_process_body

STORE = ("mongo",)
"""The stack's processes whose CPU is the store's."""


class _CommandCounter(monitoring.CommandListener):
    """Counts the store commands this process sends, by name."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.apicpu")
    parser.add_argument("--processes", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with started() as env:
        os.environ.update(
            MONGO_URI=env.mongo_uri,
            MONGO_DB=f"{env.product_db}_inprocess",
            REDIS_URL=env.redis_url,
            **env.keys(),
        )
        commands = _CommandCounter()
        monitoring.register(commands)
        from api import create_app

        app = create_app()
        client = app.test_client()
        token = env.admin_token()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

        def drive(count: int) -> tuple[float, float, int]:
            cpu, wall, fired = time.process_time(), time.perf_counter(), 0
            for _ in range(count):
                body = new_process_body("changeofname", str(uuid.uuid4()))
                created = client.post("/api/v1/process", json=body)
                assert created.status_code == 201, created.get_data(as_text=True)
                path = f"/api/v1/process/changeofname/{created.get_json()['changeofname']['id']}"
                for trigger, form, documents in TRANSITIONS:
                    response = client.patch(
                        path, json={"trigger": trigger, "formData": form, "documents": documents}
                    )
                    assert response.status_code == 200, response.get_data(as_text=True)
                    fired += 1
            return time.process_time() - cpu, time.perf_counter() - wall, fired

        drive(3)  # warm up
        best = None
        for _ in range(args.rounds):
            commands.counts.clear()
            store_before = sum(env.cpu_seconds().get(name, 0.0) for name in STORE)
            cpu, wall, fired = drive(args.processes)
            store = sum(env.cpu_seconds().get(name, 0.0) for name in STORE) - store_before
            per = (1000 * cpu / fired, 1000 * wall / fired)
            sent = ", ".join(
                f"{name} {count / fired:.2f}" for name, count in commands.counts.most_common()
            )
            print(
                f"[apicpu] {per[0]:.3f} ms CPU, {per[1]:.3f} ms wall per transition "
                f"(a start every ten included); store {1000 * store / fired:.3f} ms CPU; "
                f"store commands per transition: {sent}",
                flush=True,
            )
            best = per if best is None or per[0] < best[0] else best
    assert best is not None
    print(f"[apicpu] best: {best[0]:.3f} ms CPU, {best[1]:.3f} ms wall per transition")
    return 0


if __name__ == "__main__":
    sys.exit(main())
