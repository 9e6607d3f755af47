"""A small closed-loop load generator: threads, each with its own HTTP connection.

Every request is timed on the client; the same generator drives the product and its
baseline, so its own cost (it shares the machine's cores) weighs on both alike.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class HttpError(Exception):
    """A response other than the one expected."""


class Http:
    """One connection to one server, re-opened when the server closes it (sync gunicorn)."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: Any = None, expect: int | None = None
    ) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            connection = self._connection
            if connection is None:
                connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
                self._connection = connection
            try:
                connection.request(method, path, payload, self.headers)
                response = connection.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            parsed = json.loads(data) if data else None
            if expect is not None and response.status != expect:
                raise HttpError(f"{method} {path}: {response.status} {data[:300]!r}")
            return response.status, parsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class Samples:
    """Latencies (seconds) of one kind of operation, and the wall time they were taken over."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    starts: list[float] = field(default_factory=list)
    """Latencies of the requests that started processes, when a job times them apart."""

    def add(self, seconds: float) -> None:
        self.latencies.append(seconds)

    def extend(self, other: Samples) -> None:
        self.latencies.extend(other.latencies)
        self.starts.extend(other.starts)
        self.errors += other.errors

    @property
    def count(self) -> int:
        return len(self.latencies)

    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def summary(self) -> dict[str, float]:
        starts = (
            {
                "starts": len(self.starts),
                "start_p50_ms": round(percentile(self.starts, 50) * 1000, 2),
                "start_p99_ms": round(percentile(self.starts, 99) * 1000, 2),
            }
            if self.starts
            else {}
        )
        return {
            **starts,
            "count": self.count,
            "errors": self.errors,
            "seconds": round(self.elapsed, 3),
            "per_second": round(self.rate(), 1),
            "p50_ms": round(percentile(self.latencies, 50) * 1000, 2),
            "p95_ms": round(percentile(self.latencies, 95) * 1000, 2),
            "p99_ms": round(percentile(self.latencies, 99) * 1000, 2),
            "max_ms": round(max(self.latencies, default=0.0) * 1000, 2),
        }


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (0 when there are no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


Job = Callable[[Http, Samples], None]
"""One unit of client work (e.g. a process driven through its transitions), timing what it
measures into the Samples it is given."""


def run_clients(
    clients: int,
    make_http: Callable[[], Http],
    job: Job,
    seconds: float,
    max_jobs_per_client: int = 10_000,
) -> Samples:
    """Run `job` in a loop on `clients` threads for about `seconds` (bounded by count too).

    Each client finishes the job it is in when time runs out; the rate is over the time
    until the last one finished.
    """
    results = [Samples() for _ in range(clients)]
    failures: list[BaseException] = []
    start_line = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(index: int) -> None:
        connection = make_http()
        samples = results[index]
        start_line.wait()
        try:
            for _ in range(max_jobs_per_client):
                if time.perf_counter() >= deadline:
                    break
                try:
                    job(connection, samples)
                except (HttpError, OSError, http.client.HTTPException):
                    samples.errors += 1
                    if samples.errors > 50:
                        raise
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    start_line.wait()
    for thread in threads:
        thread.join(seconds + 120)
    total = Samples(elapsed=time.perf_counter() - began)
    for samples in results:
        total.extend(samples)
    if failures:
        raise RuntimeError(f"{len(failures)} client(s) failed; first: {failures[0]!r}")
    return total
