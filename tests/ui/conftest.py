"""Fixtures of the page tests: the app of tests/conftest.py, and clients of its pages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.ui.pages import sign_in


@pytest.fixture
def browser_client(app) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A client that is not signed in."""
    return app.test_client()


@pytest.fixture
def officer(app) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A housing officer of patch E1, signed in."""
    return sign_in(app.test_client())
