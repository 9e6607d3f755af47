"""How the service is started: the commands of a deployment, in its own directory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a command of the project in its own directory; its output as text."""
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


KEY_SETTINGS = (
    *("DEVELOPMENT_MODE", "JWT_SECRET", "JWT_PUBLIC_KEY", "JWKS_URL", "SECRET_KEY"),
    *("WEBHOOK_URLS", "WEBHOOK_SECRET"),
)
"""What decides whether the service has its keys."""


def env_without_keys(**settings: str) -> dict[str, str]:
    """This environment outside development mode, with no key set (plus `settings`)."""
    env = {name: value for name, value in os.environ.items() if name not in KEY_SETTINGS}
    env.update(settings)
    return env
