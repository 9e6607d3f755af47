"""The fuzz run's bookkeeping: the long run only when asked for, and a count of the cases."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import pytest


@dataclass
class Tally:
    """Generated cases sent, per operation, the statuses they got and the time it took."""

    cases: collections.Counter[str] = field(default_factory=collections.Counter)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: float = 0.0

    def count(self, operation: str, status: int) -> None:
        self.cases[operation] += 1
        self.statuses[f"{status // 100}xx" if status not in (400, 404) else str(status)] += 1


TALLY = Tally()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Name each item after its operation, and run the long fuzz run only when selected with
    `-m fuzz_full` (as `make fuzz` does)."""
    for item in items:
        # schemathesis 4.32 names an item "test[GET /path]", but pytest 9.2 builds its node id
        # from the function name alone, so every operation would report under one id.
        name, bracket, params = item.name.partition("[")
        if bracket and item.nodeid.endswith(f"::{name}"):
            item._id = item._id.with_params(params.removesuffix("]"))  # type: ignore[attr-defined]
    if "fuzz_full" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="the long fuzz run: make fuzz (pytest -m fuzz_full)")
    for item in items:
        if item.get_closest_marker("fuzz_full"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.cases:
        terminalreporter.write_line(
            f"fuzz: {sum(TALLY.cases.values())} generated cases over {len(TALLY.cases)} "
            f"operations in {TALLY.seconds:.1f} s"
        )
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(TALLY.statuses.items()))
        terminalreporter.write_line(f"fuzz: responses {statuses}")
