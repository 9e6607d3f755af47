"""The outbox on the real store: a step leaves it when a worker has done it, and each sweep
that has to dispatch it again waits twice as long before the next; events come to every sweep
(handing one on again is harmless) until they leave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pymongo.database import Database

from machines.model import FollowUp
from storage import ProcessRepository
from tests.storage.test_repository import T0, follow_up, make_process

GRACE = timedelta(seconds=30)


@pytest.fixture
def repo(db: Database) -> ProcessRepository:
    repository = ProcessRepository(db)
    repository.create_indexes()
    return repository


def claimed(repo: ProcessRepository, at: timedelta) -> list[str]:
    moment = T0 + at
    return [f.name for _, stale in repo.stale_follow_ups(moment - GRACE, moment) for f in stale]


def step(name: str) -> FollowUp:
    return FollowUp(kind="task", name=name, payload={"version": 1}, created_at=T0)


def test_a_step_stays_until_done_and_is_swept_ever_less_often(repo: ProcessRepository):
    kept, done = step("kept"), step("done")
    process = make_process(follow_ups=[kept, done])
    repo.add(process)
    repo.remove_follow_ups(process.id, [done.id, "no-such-follow-up"])

    assert claimed(repo, timedelta(seconds=10)) == []  # within the grace period
    assert claimed(repo, timedelta(seconds=31)) == ["kept"]  # claimed at 31 s
    assert claimed(repo, timedelta(seconds=62)) == []  # next after 2 x grace: 91 s
    assert claimed(repo, timedelta(seconds=92)) == ["kept"]  # next after 4 x grace: 212 s
    assert claimed(repo, timedelta(seconds=200)) == []
    assert claimed(repo, timedelta(seconds=213)) == ["kept"]
    repo.remove_follow_ups(process.id, [kept.id])
    assert claimed(repo, timedelta(days=1)) == []
    assert list(repo.pending_follow_ups(T0 + timedelta(days=1))) == []


def test_an_event_comes_to_every_sweep_after_its_grace_until_it_leaves(repo: ProcessRepository):
    published = follow_up("published")
    process = make_process(follow_ups=[published])
    repo.add(process)

    assert claimed(repo, timedelta(seconds=10)) == []
    assert claimed(repo, timedelta(seconds=31)) == ["published"]
    assert claimed(repo, timedelta(seconds=32)) == ["published"]  # not held back by a claim
    repo.forget_follow_ups({process.id: [published.id]})
    assert claimed(repo, timedelta(seconds=33)) == []
