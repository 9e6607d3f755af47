"""Worktray pages, read with either paging strategy (keyset, for MongoDB; time slices of the
sort key, for SecantusDB): every case once, in order, on indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from machines.model import Process
from machines.queries import ProcessQuery
from storage import ProcessRepository
from storage.processes import LONGEST_SLICE, PAGING_STRATEGIES
from tests.storage.conftest import Watched
from tests.storage.test_repository import entry, make_process

NOW = datetime.now(UTC).replace(microsecond=0)

# From the future (a clock ahead) to beyond the longest slice, with ties on page edges.
OFFSETS = [
    timedelta(hours=-2),
    timedelta(minutes=-1),
    timedelta(0),
    timedelta(0),
    timedelta(minutes=59),
    timedelta(hours=1),
    timedelta(hours=7),
    timedelta(hours=7),
    timedelta(hours=7),
    timedelta(days=2),
    timedelta(days=30),
    timedelta(days=300),
    LONGEST_SLICE,
    LONGEST_SLICE + timedelta(days=400),
    timedelta(days=5000),
]


def case(patch: str, updated_ago: timedelta, due_in: timedelta | None = None) -> Process:
    """A case on `patch` last updated `updated_ago` before now, due `due_in` from now."""
    updated = NOW - updated_ago
    due = NOW + due_in if due_in is not None else None
    current = entry(
        "VisitScheduled", updated, assignment={"patch": patch, "officerId": "o1"}, due_at=due
    )
    return make_process(
        created_at=updated - timedelta(days=1), current_state=current, updated_at=updated
    )


@pytest.fixture(params=PAGING_STRATEGIES)
def repo(db: Database, request: pytest.FixtureRequest) -> ProcessRepository:
    """A repository paging with each strategy in turn: both give the same pages."""
    repository = ProcessRepository(db, paging=request.param)
    repository.create_indexes()
    return repository


def every_page(repo: ProcessRepository, query: ProcessQuery, size: int) -> list[str]:
    """Ids of every page of `query`, following each page's last row as the next one does."""
    seen: list[str] = []
    after: tuple[Any, str] | None = None
    while True:
        page = repo.search(query, size, after)
        seen += [p.id for p in page]
        if len(page) < size:
            return seen
        last = page[-1]
        value = last.updated_at if query.sort == "updatedAt" else last.current_state.due_at
        assert value is not None
        after = (value, last.id)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 50])
def test_a_patch_recently_updated_first_pages_through_every_case_once(repo, size):
    cases = [case("P1", ago) for ago in OFFSETS]
    for process in cases:
        repo.add(process)
    repo.add(case("P2", timedelta(0)))  # another patch's case never shows
    expected = [p.id for p in sorted(cases, key=lambda p: (p.updated_at, p.id), reverse=True)]

    assert every_page(repo, ProcessQuery(patch="P1", sort="updatedAt"), size) == expected


@pytest.mark.parametrize("size", [1, 2, 3, 7, 50])
def test_open_cases_due_soonest_first_page_through_every_case_once(repo, size):
    # Overdue ones (long past their deadline too), due soon, due in years; some share a deadline.
    cases = [case("P1", timedelta(hours=i), due_in=-offset) for i, offset in enumerate(OFFSETS)]
    cases += [case("P1", timedelta(0), due_in=offset) for offset in OFFSETS[4:]]
    for process in cases:
        repo.add(process)
    repo.add(case("P1", timedelta(0), due_in=None))  # no deadline: not in this tray
    expected = [p.id for p in sorted(cases, key=lambda p: (p.current_state.due_at, p.id))]
    query = ProcessQuery(patch="P1", state="VisitScheduled", sort="dueAt")

    assert every_page(repo, query, size) == expected


@pytest.mark.parametrize(
    "query",
    [
        ProcessQuery(patch="P1", sort="updatedAt"),
        ProcessQuery(patch="P1", state="VisitScheduled", sort="dueAt"),
        ProcessQuery(state="VisitScheduled", sort="updatedAt"),
        ProcessQuery(officer_id="o1", sort="updatedAt"),
    ],
    ids=["patch-updated", "patch-open-due", "state-updated", "officer-updated"],
)
def test_every_slice_of_a_worktray_page_is_an_index_scan(watched: Watched, query):
    """Each slice a page reads is an index range; none scans the collection."""
    for ago in OFFSETS:
        watched.repo.add(case("P1", ago, due_in=ago))
    watched.finds.clear()
    assert len(watched.repo.search(query, 20)) == len(OFFSETS)
    assert len(watched.finds) > 1  # the page was read in slices
    for find in watched.finds:
        stages = watched.stages(find)
        assert "IXSCAN" in stages, stages
        assert "COLLSCAN" not in stages, stages


def test_a_recent_page_reads_only_the_slices_it_needs(watched: Watched):
    """The first page of a busy patch stops at the first slices that fill it."""
    for minutes in range(0, 600, 10):  # one case every ten minutes for ten hours
        watched.repo.add(case("P1", timedelta(minutes=minutes)))
    watched.finds.clear()
    page = watched.repo.search(ProcessQuery(patch="P1", sort="updatedAt"), 5)
    assert len(page) == 5
    assert len(watched.finds) == 1  # the first hour held the page


def test_the_development_server_is_paged_in_time_slices(db: Database):
    """Asked to choose, the repository reads SecantusDB (which sorts before it limits) in
    time slices, and MongoDB would be read with plain keyset pages."""
    assert ProcessRepository(db).paging == "time-slices"
    assert ProcessRepository(db, paging="keyset").paging == "keyset"
    with pytest.raises(ValueError, match="Unknown paging strategy"):
        ProcessRepository(db, paging="pages")


def test_a_keyset_page_is_one_read_in_sort_order(watched: Watched):
    """With keyset paging a page of a busy patch, first or later, is one index range."""
    keyset = ProcessRepository(watched.db, paging="keyset")
    for minutes in range(0, 600, 10):
        keyset.add(case("P1", timedelta(minutes=minutes)))
    watched.finds.clear()
    first = keyset.search(ProcessQuery(patch="P1", sort="updatedAt"), 5)
    keyset.search(
        ProcessQuery(patch="P1", sort="updatedAt"), 5, (first[-1].updated_at, first[-1].id)
    )
    assert len(watched.finds) == 2
    for find in watched.finds:
        assert "IXSCAN" in watched.stages(find)
