"""What a view needs from the app: the repository, the dispatcher, the request's context."""

from __future__ import annotations

from flask import current_app, g, request

from machines.ports import Dispatch
from services.context import Context
from services.paging import PageTokens
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


def if_match() -> frozenset[int] | None:
    """The versions named by If-Match; None when absent or `*`.

    Tags that are not versions this API issued can never match; a header naming only such
    tags gives an empty set, which fails the precondition (412) as RFC 9110 requires.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag.isdigit() and len(tag) < 19:
            versions.add(int(tag))
    return frozenset(versions)
