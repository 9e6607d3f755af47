"""Profile the stack under load: `python -m bench.profile [--seconds N] [--clients N]`.

Starts the same stack as the benchmark, drives HTTP transitions (and automated steps) at a
fixed concurrency, and records every app process with py-spy (sampling, `--idle` off) for
the same window. Writes collapsed stacks and a summary of where CPU time goes, per process
kind and per function (inclusive), to .data/bench/profile/.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import scenarios
from bench.environment import Environment, started
from bench.load import Http, run_clients
from scripts.stack import ROOT

OUT = ROOT / ".data" / "bench" / "profile"


def _py_spy() -> str:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else "py-spy"


def record(env: Environment, seconds: float, rate: int, gil: bool) -> dict[str, Path]:
    """Start py-spy on each app process (API workers, Celery pool, the database server)."""
    targets: dict[str, int] = {}
    for name in ("api", "worker"):
        pids = env.pids(name)
        for index, pid in enumerate(pids[1:] or pids):
            targets[f"{name}-{index}"] = pid
    if "mongo" in env.processes:
        targets["mongo"] = env.processes["mongo"].proc.pid
    outputs: dict[str, Path] = {}
    procs = []
    for name, pid in targets.items():
        path = OUT / f"{name}.txt"
        outputs[name] = path
        procs.append(
            subprocess.Popen(
                [
                    _py_spy(),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(seconds)),
                    "--rate",
                    str(rate),
                    "--format",
                    "raw",
                    "--output",
                    str(path),
                    "--nonblocking",
                    *(["--gil"] if gil else []),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    threading.Thread(target=lambda: [p.wait() for p in procs], daemon=True).start()
    return outputs


def summarise(outputs: dict[str, Path], top: int) -> str:
    lines = []
    totals = {}
    for name, path in outputs.items():
        if not path.exists():
            continue
        inclusive: collections.Counter[str] = collections.Counter()
        leaf: collections.Counter[str] = collections.Counter()
        total = 0
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            total += count
            functions = [_function(frame) for frame in stack.split(";")]
            for function in set(functions):
                inclusive[function] += count
            if functions:
                leaf[functions[-1]] += count
        totals[name] = total
        lines.append(f"\n== {name}: {total} samples; inclusive (scaffolding above 90% left out)")
        shown = [(f, c) for f, c in inclusive.most_common() if c <= 0.9 * total][:top]
        for function, count in shown:
            lines.append(f"{100 * count / max(total, 1):5.1f}%  {function}")
        lines.append(f"-- {name}: self time")
        for function, count in leaf.most_common(top // 2):
            lines.append(f"{100 * count / max(total, 1):5.1f}%  {function}")
    header = ["CPU samples by process: " + ", ".join(f"{k} {v}" for k, v in totals.items())]
    return "\n".join(header + lines)


def _function(frame: str) -> str:
    """`name (path/file.py:line)` as `name (package/file.py)`, the line left out."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = path.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 1 else path
    return f"{name} ({short})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--label", default="latest")
    parser.add_argument(
        "--wall",
        action="store_true",
        help="sample waiting threads too (default: only threads holding the GIL, i.e. CPU)",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    with started() as env:
        token = env.admin_token()
        product = lambda: Http(env.api_port, token)  # noqa: E731
        run_clients(2, product, scenarios.product_transitions, 2.0, 3)
        outputs = record(env, args.seconds, args.rate, not args.wall)
        time.sleep(0.5)
        before, client_before = env.cpu_seconds(), time.process_time()
        samples = run_clients(args.clients, product, scenarios.product_transitions, args.seconds)
        after, client_after = env.cpu_seconds(), time.process_time()
        time.sleep(1.5)
    cpu = {name: after[name] - before.get(name, 0.0) for name in after}
    cpu["client"] = client_after - client_before
    per = {k: round(1000 * v / max(samples.count, 1), 2) for k, v in cpu.items() if v > 0}
    heading = [
        f"transitions during the profile: {samples.summary()}",
        f"CPU ms per transition by process: {per} (total {sum(per.values()):.2f})",
    ]
    text = "\n".join(heading) + "\n" + summarise(outputs, args.top)
    (OUT / f"summary-{args.label}.txt").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
