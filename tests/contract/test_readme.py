"""The README's "Try it" block runs as a newcomer pastes it, against a running service (the
API, a worker and beat on their own servers), so it cannot drift from the product."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.chaos.harness import DB_NAME, ROOT, running_stack

pytestmark = pytest.mark.slow

README = ROOT / "README.md"


def try_it_block() -> str:
    """The first shell block after the "## Try it" heading."""
    text = README.read_text()
    section = text[text.index("## Try it") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "README.md has no ```sh block under ## Try it"
    return match.group(1)


def test_the_try_it_block_runs_verbatim_and_shows_what_it_promises() -> None:
    """Run with bash -euo pipefail, every command succeeds, no answer is a problem document,
    and each step prints the state its comment says."""
    with running_stack("readme") as stack:
        env = {
            **stack.env,
            "PORT": str(stack.api.port),
            "MONGO_URI": stack.mongo.uri,
            "MONGO_DB": DB_NAME,
        }
        env.pop("DEVELOPMENT_MODE", None)  # the block sets it, as a newcomer's shell has none
        seeded = subprocess.run(  # as make run does before it prints its banner
            [sys.executable, "-m", "flask", "--app", "api", "seed-demo"],
            cwd=ROOT,
            env={**env, "DEVELOPMENT_MODE": "1"},
            capture_output=True,
            check=False,
        )
        assert seeded.returncode == 0, seeded.stderr
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", try_it_block()],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    output = result.stdout
    assert result.returncode == 0, (output, result.stderr)
    assert "urn:processes-api:problem" not in output + result.stderr
    lines = output.splitlines()
    case = next(line.removeprefix("case ") for line in lines if line.startswith("case "))
    assert lines[-4:] == [
        "AutomatedChecksInProgress",
        "AutomatedChecksPassed",
        "tenancy-agreement.pdf",
        case,
    ]
