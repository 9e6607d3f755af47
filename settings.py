"""Runtime settings, read from the environment in one place for the API and the workers."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    mongo_uri: str
    mongo_db: str
    redis_url: str
    port: int
    max_retries_on_conflict: int = 5


def from_env() -> Settings:
    """Build settings from the environment, with defaults that work on a developer machine."""
    return Settings(
        mongo_uri=os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017"),
        mongo_db=os.environ.get("MONGO_DB", "processes"),
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        port=int(os.environ.get("PORT", "5000")),
    )
