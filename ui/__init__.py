"""The officers' web pages: server-rendered GOV.UK pages over the same use cases as the API.

A plain Flask blueprint (so it stays out of the OpenAPI document). Officers sign in to a
session cookie that carries their token; each request verifies it again and acts with the
officer's context, so the pages obey the same rules, authorisation and concurrency checks
as the API.
"""

from __future__ import annotations

from flask import Flask

from settings import Settings


def register(app: Flask, settings: Settings) -> None:
    """Add the pages, their session and their error pages to `app`."""
    from ui import (  # noqa: F401 - importing a module adds its pages to the blueprint
        actions,
        cases,
        documents,
        errors,
        session,
        start,
        statement,
        worktray,
    )
    from ui.blueprint import bp

    session.configure(app, settings)
    errors.configure(app)
    app.register_blueprint(bp)
