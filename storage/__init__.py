"""Persistence. The only package that imports pymongo; others use what it exports."""

from __future__ import annotations

from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from settings import Settings
from storage.mongo import database, ping
from storage.processes import ProcessRepository

RETRYABLE_ERRORS: tuple[type[Exception], ...] = (AutoReconnect, ConnectionFailure)
"""Errors after which the same operation may succeed if tried again."""

UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (ServerSelectionTimeoutError, ConnectionFailure)
"""Errors that mean the database is not answering."""

StoreError = PyMongoError


def repository(settings: Settings) -> ProcessRepository:
    """The process repository on the configured database."""
    return ProcessRepository(
        database(settings.mongo_uri, settings.mongo_db), paging=settings.store_paging
    )


def is_available(settings: Settings) -> bool:
    """Whether the configured database answers."""
    return ping(database(settings.mongo_uri, settings.mongo_db))


__all__ = [
    "RETRYABLE_ERRORS",
    "UNAVAILABLE_ERRORS",
    "ProcessRepository",
    "StoreError",
    "is_available",
    "repository",
]
