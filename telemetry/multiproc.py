"""Where prometheus_client's multiprocess mode keeps a runtime's metrics.

prometheus_client decides on multiprocess mode when it is first imported, from
PROMETHEUS_MULTIPROC_DIR: a runtime that forks (gunicorn, Celery's prefork pool) names the
directory here before anything imports it, so this module imports nothing of it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "processes-metrics-"
MADE_ENV = "PROCESSES_METRICS_DIR_MADE"
"""Set when the directory was made here (and so is removed here)."""


def prepare_multiprocess_dir(role: str) -> Path:
    """Name (and empty) the directory this runtime's processes keep their metrics in.

    Set by the operator (PROMETHEUS_MULTIPROC_DIR) or made here, one per run; either way
    emptied now, because files a previous run left would be added to this run's figures.
    Call before prometheus_client is imported in this process.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.glob("*.db"):
            leftover.unlink(missing_ok=True)
    else:
        _remove_orphans()
        directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{role}-{os.getpid()}-"))
        os.environ[MULTIPROC_ENV] = str(directory)
        os.environ[MADE_ENV] = str(directory)
    return directory


def _remove_orphans() -> None:
    """Remove directories made here by runtimes that are gone without removing theirs (killed:
    no exit hook ran). Their names hold the pid of the process that made them."""
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*-*"):
        pid = directory.name.removeprefix(PREFIX).split("-")[1]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_multiprocess_dir() -> None:
    """Remove the directory `prepare_multiprocess_dir` made (not one the operator named)."""
    made = os.environ.get(MADE_ENV)
    if made and made == os.environ.get(MULTIPROC_ENV):
        shutil.rmtree(made, ignore_errors=True)
