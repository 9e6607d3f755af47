"""Shared fixtures on the real servers the test command started (MONGO_URI, REDIS_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from pymongo.database import Database

from api import create_app
from api.auth import mint
from machines.model import FollowUp
from settings import Settings, from_env
from storage.mongo import close_all, database
from tests.fake_services import FakeServices


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    if "MONGO_URI" not in os.environ:
        pytest.exit("MONGO_URI is not set: run the tests with `make test`.", returncode=2)
    yield from_env()
    close_all()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """A throwaway database per test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    database_ = database(settings.mongo_uri, name)
    yield database_
    database_.client.drop_database(name)


class Dispatched(list[tuple[str, FollowUp]]):
    """Follow-ups the code handed on, as (process id, follow-up) pairs."""

    def names(self) -> list[str]:
        return [follow_up.name for _, follow_up in self]

    def for_process(self, process_id: str) -> list[FollowUp]:
        return [follow_up for pid, follow_up in self if pid == process_id]


@pytest.fixture
def dispatched() -> Dispatched:
    return Dispatched()


@pytest.fixture
def app(db: Database, dispatched: Dispatched):  # type: ignore[no-untyped-def]
    """The API on the test database, recording dispatches instead of queueing them. Like the
    real dispatcher it publishes events in place (reporting them done) and drops an event it
    published before."""
    published: set[str] = set()

    def record(process_id: str, follow_ups: list[FollowUp]) -> list[str]:
        dispatched.extend((process_id, f) for f in follow_ups if f.id not in published)
        events = [f.id for f in follow_ups if f.kind == "event"]
        published.update(events)
        return events

    return create_app({"TESTING": True, "MONGO_DB": db.name}, dispatch=record)


@pytest.fixture
def client(app) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A client signed in as an administrator (every patch, every trigger)."""
    return signed_in(app, ["processes-admin"])


def signed_in(app, groups: list[str]) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A test client whose requests carry a valid token for a user in `groups`."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token(app, groups)}"
    return client


def token(app, groups: list[str], **claims: object) -> str:  # type: ignore[no-untyped-def]
    """A token the app accepts, for a user in `groups`."""
    settings = app.extensions["settings"]
    return mint(
        settings,
        str(claims.get("sub", "officer-1")),
        "Test Officer",
        "officer@example.org",
        groups,
    )


@pytest.fixture
def fake_services() -> Iterator[FakeServices]:
    """A fake Tenure and Person API over real HTTP on a free local port."""
    with FakeServices() as services:
        yield services
