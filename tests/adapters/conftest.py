"""Fixtures for the adapters' tests: a fake Tenure and Person API over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_services import FakeServices


@pytest.fixture
def fake_services() -> Iterator[FakeServices]:
    """The fake services on a free local port, stopped after the test."""
    with FakeServices() as services:
        yield services
