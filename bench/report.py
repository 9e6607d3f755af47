"""Write a run's results: JSON, a PNG chart, and the summary table printed at the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TARGETS = {
    "headline": "API CPU per transition <= 1.5 x bare endpoint, one-client throughput >= 0.8",
    "transitions": "product/baseline throughput >= 0.8",
    "automation": "product/baseline p50 latency <= 1.5",
    "scale": "largest/smallest p50 latency <= 1.3, index used",
    "soak": "no growth (<= max(5 MB, 5%))",
}


def write_json(results: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def table(results: dict[str, Any]) -> str:
    """The summary: every figure beside its baseline, and the ratio against the target."""
    rows: list[tuple[str, str, str, str, str]] = []
    for length, row in results.get("headline", {}).items():
        p, b = row["product"], row["baseline"]
        rows.append(
            (
                f"API CPU ms per transition, {length} ({row['states_before']} states)",
                f"{p['cpu_ms']} ms",
                f"{b['cpu_ms']} ms",
                f"{row['cpu_ratio']}",
                _verdict(row["cpu_ratio"], at_most=1.5),
            )
        )
        rows.append(
            (
                f"one client, {length} cases",
                f"{p['per_second']}/s",
                f"{b['per_second']}/s",
                f"{row['throughput_ratio']}",
                _verdict(row["throughput_ratio"], at_least=0.8),
            )
        )
    for clients, row in results.get("transitions", {}).items():
        p, b = row["product"], row["baseline"]
        rows.append(
            (
                f"transitions, {clients} client{'' if clients == '1' else 's'}",
                f"{p['per_second']:.0f}/s p50 {p['p50_ms']} p95 {p['p95_ms']} p99 {p['p99_ms']}",
                f"{b['per_second']:.0f}/s p50 {b['p50_ms']} p95 {b['p95_ms']} p99 {b['p99_ms']}",
                f"{row['throughput_ratio']}",
                _verdict(row["throughput_ratio"], at_least=0.8),
            )
        )
    for clients, row in results.get("transitions", {}).items():
        p, b = row["product"], row["baseline"]
        if "cpu_ms_per_transition" in p:
            rows.append(
                (
                    f"CPU ms per transition, {clients}",
                    _cpu(p["cpu_ms_per_transition"], "api"),
                    _cpu(b["cpu_ms_per_transition"], "baseline-api"),
                    str(
                        round(
                            p["cpu_ms_per_transition"]["total"]
                            / max(b["cpu_ms_per_transition"]["total"], 0.001),
                            2,
                        )
                    ),
                    "",
                )
            )
    for clients, row in results.get("transitions", {}).items():
        p, b = row["product"], row["baseline"]
        if "start_p50_ms" in p and "start_p50_ms" in b:
            rows.append(
                (
                    f"process start, {clients}",
                    f"p50 {p['start_p50_ms']} p99 {p['start_p99_ms']} ms",
                    f"p50 {b['start_p50_ms']} p99 {b['start_p99_ms']} ms",
                    str(round(p["start_p50_ms"] / max(b["start_p50_ms"], 0.001), 2)),
                    "",
                )
            )
    automation = results.get("automation", {})
    for mode in ("sequential", "concurrent"):
        row = automation.get(mode)
        if not row:
            continue
        p, b = row["product"], row["baseline"]
        if mode == "sequential":
            # One instance at a time: the latency of the round trip itself.
            label, ratio = "1 client", f"{row['p50_ratio']} (p99 {row['p99_ratio']})"
            verdict = _verdict(row["p50_ratio"], at_most=1.5)
        else:
            # As fast as clients can enter them: the rate; latency there is time in the queue.
            label = f"{automation[mode]['clients']} clients"
            ratio = f"rate {row['throughput_ratio']} (p50 {row['p50_ratio']})"
            verdict = "rate only"
        rows.append(
            (
                f"automation, {label}",
                f"p50 {p['p50_ms']} p99 {p['p99_ms']} ms, {p['per_second']}/s",
                f"p50 {b['p50_ms']} p99 {b['p99_ms']} ms, {b['per_second']}/s",
                ratio,
                verdict,
            )
        )
    scale = results.get("scale", {})
    sizes = sorted(scale.get("sizes", {}), key=int)
    for name, ratio in scale.get("ratios", {}).items():
        small = scale["sizes"][sizes[0]]["queries"][name]
        large = scale["sizes"][sizes[-1]]["queries"][name]
        index = ",".join(large["plan"]["indexes"]) or "no index"
        rows.append(
            (
                f"{name}, {int(sizes[-1]):,} vs {int(sizes[0]):,}",
                f"p50 {large['p50_ms']} p95 {large['p95_ms']} ms ({index})",
                f"p50 {small['p50_ms']} p95 {small['p95_ms']} ms",
                f"{ratio['p50_ratio']}",
                _verdict(ratio["p50_ratio"], at_most=1.3) if ratio["uses_index"] else "NO INDEX",
            )
        )
    memory = results.get("memory", {})
    if memory:
        for key, baseline in (("api", "baseline_api"), ("worker", "baseline_worker")):
            rows.append(
                (
                    f"RSS {key}",
                    f"{memory[key]['total_mb']} MB",
                    f"{memory[baseline]['total_mb']} MB",
                    f"{memory[f'{key}_ratio']}",
                    "",
                )
            )
    soak = results.get("soak", {})
    if soak:
        for key in ("api", "worker"):
            growth = soak["growth"][key]
            base = soak["growth"][f"baseline_{key}"]
            rows.append(
                (
                    f"soak {soak['seconds']:.0f}s RSS {key}",
                    f"{growth['start_mb']} -> {growth['end_mb']} MB",
                    f"{base['start_mb']} -> {base['end_mb']} MB",
                    f"{growth['growth_ratio']}",
                    "ok" if growth["growth_mb"] <= max(5.0, 0.05 * growth["start_mb"]) else "GREW",
                )
            )
    header = ("scenario", "product", "baseline (same run)", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _cpu(shares: dict[str, float], api: str) -> str:
    """`api 4.1 + worker 3.2 + db 8.1 + other 0.9 = 16.3`: CPU of every process, per op."""
    main = {"api": shares.get(api, 0.0), "worker": shares.get("worker", 0.0)}
    main["db"] = shares.get("mongo", 0.0)
    other = shares.get("total", 0.0) - sum(main.values())
    parts = " + ".join(f"{k} {v:.1f}" for k, v in main.items() if v >= 0.05)
    return f"{parts} + other {other:.1f} = {shares.get('total', 0.0):.1f}"


def _verdict(
    ratio: float | None, at_least: float | None = None, at_most: float | None = None
) -> str:
    if ratio is None:
        return "n/a"
    if at_least is not None:
        return "met" if ratio >= at_least else f"MISSED (>= {at_least})"
    assert at_most is not None
    return "met" if ratio <= at_most else f"MISSED (<= {at_most})"


def chart(results: dict[str, Any], path: Path) -> None:
    """Four panels: transitions/s, automation latency, query latency by size, soak RSS."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(13, 9))
    figure.suptitle(
        f"Processes API benchmark ({results['meta']['mode']}, {results['meta']['started']})"
    )

    ax = axes[0][0]
    transitions = results.get("transitions", {})
    levels = list(transitions)
    x = range(len(levels))
    ax.bar(
        [i - 0.2 for i in x],
        [transitions[c]["product"]["per_second"] for c in levels],
        0.4,
        label="product",
    )
    ax.bar(
        [i + 0.2 for i in x],
        [transitions[c]["baseline"]["per_second"] for c in levels],
        0.4,
        label="baseline (bare Flask, same I/O)",
    )
    for i, c in enumerate(levels):
        ax.annotate(
            f"x{transitions[c]['throughput_ratio']}",
            (i, transitions[c]["product"]["per_second"]),
            ha="center",
            va="bottom",
        )
    ax.set_xticks(list(x), [f"{c} client{'' if c == '1' else 's'}" for c in levels])
    ax.set_ylabel("transitions/s")
    ax.set_title("1. HTTP transitions")
    ax.legend()

    ax = axes[0][1]
    automation = results.get("automation", {})
    modes = [m for m in ("sequential", "concurrent") if m in automation]
    for offset, name in ((-0.2, "product"), (0.2, "baseline")):
        p50 = [automation[m][name]["p50_ms"] for m in modes]
        p99 = [automation[m][name]["p99_ms"] for m in modes]
        positions = [i + offset for i in range(len(modes))]
        ax.bar(positions, p99, 0.4, alpha=0.35, color="C0" if name == "product" else "C1")
        ax.bar(
            positions,
            p50,
            0.4,
            label=f"{name} p50 (pale: p99)",
            color="C0" if name == "product" else "C1",
        )
    ax.set_xticks(
        range(len(modes)), ["1 client" if m == "sequential" else "concurrent" for m in modes]
    )
    ax.set_yscale("log")  # one instance at a time vs a saturated queue: orders apart
    ax.set_ylabel("ms, request to automated outcome stored (log)")
    ax.set_title("2. Automated step round trip")
    ax.legend()

    ax = axes[1][0]
    scale = results.get("scale", {})
    sizes = sorted(scale.get("sizes", {}), key=int)
    if sizes:
        names = list(scale["sizes"][sizes[0]]["queries"])
        width = 0.8 / len(sizes)
        for k, size in enumerate(sizes):
            values = [scale["sizes"][size]["queries"][n]["p50_ms"] for n in names]
            ax.bar(
                [i + k * width for i in range(len(names))], values, width, label=f"{int(size):,}"
            )
        ax.set_xticks([i + width * (len(sizes) - 1) / 2 for i in range(len(names))], names)
    ax.set_yscale("log")
    ax.set_ylabel("p50 ms (use case, in process, log)")
    ax.set_title("3. Queries by stored processes")
    ax.legend()

    ax = axes[1][1]
    soak = results.get("soak", {})
    samples = soak.get("samples", [])
    if samples:
        for key in ("api", "worker", "baseline_api", "baseline_worker"):
            ax.plot([s["t"] for s in samples], [s[key] for s in samples], label=key)
        ax.set_xlabel("seconds")
        ax.legend()
    ax.set_ylabel("RSS MB")
    ax.set_title("4. Memory under load (soak)")

    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    """Print the table of a results file again and redraw its chart beside it."""
    import sys

    paths = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m bench.report RESULTS.json [...]", file=sys.stderr)
        return 2
    for path in paths:
        results = json.loads(path.read_text())
        chart(results, path.with_suffix(".png"))
        print(f"{path}:\n{table(results)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
