"""Steps live in the modules of the definitions that run them, and are found however the
process looking for them started (a worker imports no definition module before its first
task)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import machines

ROOT = Path(__file__).resolve().parents[2]


def test_every_step_a_definition_names_is_found_from_a_fresh_interpreter():
    """Asked first thing in a new process, the registry knows every step of every
    definition: looking up a step loads the definitions, where the steps are."""
    probe = "from machines.steps import registered; print(' '.join(sorted(registered())))"
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    named = {s.step for d in machines.registry().values() for s in d.automated_steps}
    assert named <= set(found)


def test_each_step_is_declared_beside_its_definition():
    """A step's function is in the module of the definition whose AutomatedStep names it."""
    from machines.steps import registered

    steps = registered()
    for name, definition in machines.registry().items():
        for automated in definition.automated_steps:
            assert steps[automated.step].__module__ == f"machines.{name}"
