"""Run the benchmark: `python -m bench [--quick] [options]`. See docs/performance.md."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import headline, report, scenarios
from bench.environment import started
from scripts.stack import ROOT, Interrupted, StackError


@dataclass
class Config:
    """How much of each scenario to run."""

    levels: list[int]
    seconds: float
    sequential: int
    concurrent: int
    automation_clients: int
    sizes: list[int]
    repeats: int
    warm_up_seconds: float
    quiet_seconds: float
    """How long the store must stay idle after a scale load before queries are timed."""
    soak_seconds: float
    headline: tuple[int, int, int]
    """CPU per transition: cases of each length, transitions sent to each, rounds."""


FULL = Config(
    levels=[1, 16, 64],
    seconds=20.0,
    sequential=100,
    concurrent=600,
    automation_clients=16,
    sizes=[10_000, 1_000_000],
    repeats=200,
    warm_up_seconds=5.0,
    quiet_seconds=5.0,
    soak_seconds=600.0,
    headline=(20, 50, 10),
)
QUICK = Config(
    levels=[1, 16, 64],
    seconds=3.0,
    sequential=20,
    concurrent=100,
    automation_clients=16,
    sizes=[2_000, 10_000],
    repeats=40,
    warm_up_seconds=0.5,
    quiet_seconds=1.0,
    soak_seconds=15.0,
    headline=(10, 40, 4),
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the reduced run (about 2 minutes)")
    parser.add_argument(
        "--sizes", help="stored processes for the scale scenario, e.g. 10000,1000000"
    )
    parser.add_argument("--soak-seconds", type=float, help="length of the memory soak")
    parser.add_argument("--seconds", type=float, help="length of each transitions measurement")
    parser.add_argument(
        "--levels", help="concurrent clients of the transitions scenario, e.g. 1,16,64"
    )
    parser.add_argument(
        "--only",
        default="headline,transitions,automation,scale,memory,soak",
        help="comma-separated scenarios to run",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / ".data" / "bench", help="where results are written"
    )
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    def run(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": run("nproc"),
        "cpu": model,
        "memory": run("free", "-h"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    config = QUICK if args.quick else FULL
    if args.sizes:
        config = replace(config, sizes=[int(size) for size in args.sizes.split(",")])
    if args.soak_seconds is not None:
        config = replace(config, soak_seconds=args.soak_seconds)
    if args.levels:
        config = replace(config, levels=[int(level) for level in args.levels.split(",")])
    if args.seconds is not None:
        config = replace(config, seconds=args.seconds)
    wanted = set(args.only.split(","))
    began = time.monotonic()
    results: dict[str, Any] = {
        "meta": {
            "mode": "quick" if args.quick else "full",
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": asdict(config),
            "machine": machine(),
        }
    }
    try:
        with started() as env:
            token = env.admin_token()
            scenarios.prepare_baseline(env)
            if "headline" in wanted:
                results["headline"] = headline.cpu_per_transition(env, token, *config.headline)
            if "transitions" in wanted:
                results["transitions"] = scenarios.transitions(
                    env, token, config.levels, config.seconds
                )
            if "automation" in wanted:
                results["automation"] = scenarios.automation(
                    env,
                    token,
                    config.sequential,
                    config.concurrent,
                    config.automation_clients,
                )
            if "memory" in wanted:
                results["memory"] = scenarios.memory(env)
            if "scale" in wanted:
                results["scale"] = scenarios.scale(
                    env, config.sizes, config.repeats, config.warm_up_seconds, config.quiet_seconds
                )
            if "soak" in wanted and config.soak_seconds > 0:
                results["soak"] = scenarios.soak(env, token, config.soak_seconds, 2)
            if "memory" in wanted:
                results["memory_at_end"] = scenarios.memory(env)
    except Interrupted as stop:
        print(f"[bench] {stop}: stopped", file=sys.stderr)
        return 130
    except StackError as error:
        print(f"[bench] error: {error}", file=sys.stderr)
        return 1
    results["meta"]["seconds"] = round(time.monotonic() - began, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = "quick" if args.quick else "full"
    json_path, png_path = args.out / f"results-{stamp}.json", args.out / f"results-{stamp}.png"
    report.write_json(results, json_path)
    report.chart(results, png_path)
    print()
    print(report.table(results))
    print(f"\n[bench] {results['meta']['seconds']}s; results in {json_path} and {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
