"""The benchmark's summary leads with the headline: CPU per transition beside the baseline."""

from __future__ import annotations

from bench import report


def test_the_headline_rows_come_first_with_their_verdicts() -> None:
    results = {
        "headline": {
            "short": {
                "states_before": 10,
                "product": {"transitions": 200, "cpu_ms": 1.8, "per_second": 140.0},
                "baseline": {"transitions": 200, "cpu_ms": 1.2, "per_second": 150.0},
                "cpu_ratio": 1.5,
                "throughput_ratio": 0.933,
            },
            "long": {
                "states_before": 100,
                "product": {"transitions": 200, "cpu_ms": 4.0, "per_second": 50.0},
                "baseline": {"transitions": 200, "cpu_ms": 2.0, "per_second": 70.0},
                "cpu_ratio": 2.0,
                "throughput_ratio": 0.714,
            },
        }
    }
    rows = [line for line in report.table(results).splitlines()[2:] if line.strip()]
    assert rows[0].startswith("API CPU ms per transition, short (10 states)")
    assert "| 1.8 ms" in rows[0]
    assert rows[0].rstrip().endswith("met")
    assert rows[1].startswith("one client, short cases")
    assert rows[1].rstrip().endswith("met")
    assert rows[2].rstrip().endswith("MISSED (<= 1.5)")
    assert rows[3].rstrip().endswith("MISSED (>= 0.8)")
