"""What a view needs from the app: the repository, the dispatcher, the request's context."""

from __future__ import annotations

from flask import current_app, g

from services.paging import PageTokens
from services.processes import Context, Dispatch
from storage import ProcessRepository


def repository() -> ProcessRepository:
    repo: ProcessRepository = current_app.extensions["repository"]()
    return repo


def dispatcher() -> Dispatch:
    dispatch: Dispatch = current_app.extensions["dispatch"]
    return dispatch


def page_tokens() -> PageTokens:
    tokens: PageTokens = current_app.extensions["page_tokens"]
    return tokens


def context() -> Context:
    """The caller, what they may do, and the correlation id of the current request."""
    return Context(
        actor=g.get("actor"),
        correlation_id=g.correlation_id,
        groups=g.get("groups", frozenset()),
        policy=current_app.extensions["policy"],
    )
