"""Fault-injection tests: each starts its own servers (tests/chaos/harness.py), injects faults
and ends with a one-line summary, also repeated at the end of the run."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from tests.chaos.harness import FULL, Findings

SUMMARIES: list[str] = []

Report = Callable[..., None]


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Report:
    """Print the test's summary line and fail on any loss or duplicate."""
    started = time.monotonic()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def emit(findings: Findings, faults: int, **measured: object) -> None:
        line = findings.summary(faults)
        seconds = time.monotonic() - started
        if reporter is not None:
            # Past pytest's output capture, so the line shows without -s.
            with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                reporter.ensure_newline()
                reporter.write_line(line)
        facts = ", ".join(f"{key} {value}" for key, value in measured.items())
        size = "full" if FULL else "short"
        SUMMARIES.append(f"{request.node.name} ({size}, {seconds:.1f} s): {line}; {facts}")
        assert not findings.lost, findings.details()
        assert not findings.duplicated, findings.details()

    return emit


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if SUMMARIES:
        terminalreporter.section("fault injection")
        for line in SUMMARIES:
            terminalreporter.write_line(line)
