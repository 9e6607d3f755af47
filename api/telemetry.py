"""What the API says about each request: its correlation id, bound for every log line it
writes and every task it queues, and one access line once it is answered.

An access line names the method, the path (never the query string), the route template, the
status, the time taken and the caller's `sub`; a change of a process adds the process, the
trigger, the states it moved between and the version it reached. Bodies, form data and tokens
are never logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from apiflask import APIFlask
from flask import Response, g, request
from werkzeug.exceptions import HTTPException

from machines.model import Process
from telemetry import context, logs

access_log = logs.get_logger("api.access")

CHANGES = frozenset(
    {
        "processes.create",
        "processes.create_named",
        "processes.create_v2",
        "processes.change",
        "processes.fire",
        "processes.retry_automation",
    }
)
"""Endpoints that start or change a process (and answer with it)."""
STARTS = frozenset({"processes.create", "processes.create_named", "processes.create_v2"})
QUIET = frozenset({"health.ping", "health.ready", "metrics.scrape"})
UNREAD = frozenset({400, 411, 413, 415})
"""Statuses of requests whose body the access line does not look into."""


@dataclass(frozen=True)
class Change:
    """What a request did to a process, as its response shows it."""

    process_name: str | None
    process_id: str | None
    trigger: str | None
    from_state: str | None
    to_state: str | None
    version: int | None


def install(app: APIFlask) -> None:
    """Correlate each request, before anything else looks at it, and log it once answered."""
    app.before_request(_correlate)
    app.after_request(_log_access)
    # The thread serves other requests, and may call other services between them.
    app.teardown_request(lambda _error: context.clear())


def bind_caller() -> None:
    """After authentication: name the caller (`sub`) on the request's log lines."""
    actor = g.get("actor")
    if actor:
        context.bind(sub=actor.get("id"))


def _correlate() -> None:
    context.clear()
    g.started = time.perf_counter()
    g.correlation_id = context.accepted_correlation_id(
        request.headers.get(context.CORRELATION_HEADER)
    )
    context.bind(correlationId=g.correlation_id)


def route() -> str:
    """The matched route's template (`/api/v1/process/<process_name>/<process_id>`)."""
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


def elapsed() -> float:
    """Seconds since the request arrived."""
    return time.perf_counter() - g.get("started", time.perf_counter())


def sent_trigger(status: int) -> str | None:
    """The trigger the request sent, in its URL or in its JSON body (not read again when the
    body itself was refused: too large, not JSON, malformed)."""
    view_args = request.view_args or {}
    if view_args.get("trigger"):
        return str(view_args["trigger"])
    if request.endpoint != "processes.change" or not request.is_json or status in UNREAD:
        return None
    try:
        body = request.get_json(silent=True)
    except HTTPException:  # the body cannot be read (its size, its framing)
        return None
    trigger = body.get("trigger") if isinstance(body, dict) else None
    return trigger if isinstance(trigger, str) else None


def note_change(process: Process, trigger: str | None) -> None:
    """Record what the request did from the process it answers with, so that the access line
    and the metrics need not read the response back."""
    states = process.previous_states
    from_state = states[-1].state if trigger and states else None
    g.change = Change(
        process.process_name, process.id, trigger, from_state, process.state, process.version
    )


def change(response: Response) -> Change | None:
    """What a start or change did (`note_change`), or what a refused one asked for (from its
    URL and body), or None for other requests."""
    if request.endpoint not in CHANGES:
        return None
    if "change" not in g:
        view_args = request.view_args or {}
        trigger = sent_trigger(response.status_code)
        g.change = Change(
            view_args.get("process_name"), view_args.get("process_id"), trigger, None, None, None
        )
    found: Change = g.change
    return found


def _log_access(response: Response) -> Response:
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "route": route(),
        "status": response.status_code,
        "durationMs": round(elapsed() * 1000, 1),
    }
    done = change(response)
    if done is not None:
        fields.update(
            processName=done.process_name,
            processId=done.process_id,
            trigger=done.trigger,
            fromState=done.from_state,
            toState=done.to_state,
            version=done.version,
        )
    fields = {key: value for key, value in fields.items() if value is not None}
    # Probes and scrapes come every few seconds: kept out of the INFO log.
    write = access_log.debug if request.endpoint in QUIET else access_log.info
    write(f"{request.method} {request.path} {response.status_code}", **fields)
    return response
