"""The outbox on the real store: a follow-up leaves it when a worker has done it, and each sweep
that has to dispatch it again waits twice as long before the next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pymongo.database import Database

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
    return [f.name for _, f in repo.claim_stale_follow_ups(moment - GRACE, moment)]


def test_a_follow_up_stays_until_done_and_is_swept_ever_less_often(repo: ProcessRepository):
    kept, done = follow_up("kept"), follow_up("done")
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
