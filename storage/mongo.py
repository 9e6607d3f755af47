"""One MongoClient per OS process, made on first use (pymongo clients do not survive fork)."""

from __future__ import annotations

import os
from functools import cache

from pymongo import MongoClient
from pymongo.database import Database


def database(uri: str, name: str) -> Database:
    """The database `name` on the server at `uri`, through this process's client."""
    return _client(uri, os.getpid())[name]


_opened: list[MongoClient] = []


@cache
def _client(uri: str, pid: int) -> MongoClient:
    # The pid is part of the cache key so that a forked child never reuses its parent's client.
    client: MongoClient = MongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=2000,
        connectTimeoutMS=2000,
        socketTimeoutMS=10000,
        appname="processes-api",
    )
    _opened.append(client)
    return client


def close_all() -> None:
    """Close every client this process opened (at shutdown, and between test sessions)."""
    for client in _opened:
        client.close()
    _opened.clear()
    _client.cache_clear()


def ping(db: Database) -> bool:
    """Whether the server answers."""
    try:
        db.client.admin.command("ping")
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False
    return True
