"""Where a runtime's processes keep their metrics: emptied at every start, and not left to
pile up when runtimes are killed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from telemetry import multiproc


def test_a_directory_the_operator_names_is_emptied_not_removed(tmp_path: Path, monkeypatch):
    """PROMETHEUS_MULTIPROC_DIR given: last run's files go, the directory stays."""
    monkeypatch.setenv(multiproc.MULTIPROC_ENV, str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_123.db").write_bytes(b"old")
    assert multiproc.prepare_multiprocess_dir("api") == tmp_path / "metrics"
    assert list((tmp_path / "metrics").iterdir()) == []
    multiproc.remove_multiprocess_dir()
    assert (tmp_path / "metrics").is_dir()


def test_directories_of_killed_runtimes_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A directory made by a process that is gone is removed when the next runtime starts; one
    of a living process is kept; the new one is removed on exit."""
    for name in (multiproc.MULTIPROC_ENV, multiproc.MADE_ENV):
        # Set first, so that whatever the runtime sets is undone after the test as well.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = tmp_path / f"{multiproc.PREFIX}worker-{gone.stdout.strip()}-abc"
    living = tmp_path / f"{multiproc.PREFIX}api-1-abc"  # pid 1 is always alive
    for directory in (orphan, living):
        directory.mkdir()
    made = multiproc.prepare_multiprocess_dir("beat")
    assert not orphan.exists()
    assert living.exists()
    assert made.is_dir()
    multiproc.remove_multiprocess_dir()
    assert not made.exists()
