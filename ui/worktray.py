"""The worktray: the cases of the officer's patches and unassigned ones, filtered in the URL."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

import machines
from api.deps import context, page_tokens, repository
from machines.model import Process
from machines.queries import ProcessQuery
from services import casework
from services.context import now
from services.errors import InvalidPageToken
from ui import wording
from ui.blueprint import bp
from ui.deps import settings

PAGE_SIZE = 20
SORTS = {"dueAt": "Deadline, soonest first", "updatedAt": "Last updated", "createdAt": "Newest"}


@bp.get("/")
def worktray() -> Response | str:
    """The officer's cases, deadline first, with the filters of the query string."""
    args = request.args
    ctx = context()
    names = machines.registry()
    filters: dict[str, Any] = {
        "process": args.get("process") if args.get("process") in names else "",
        "patch": args.get("patch", "").strip(),
        "state": args.get("state", "").strip(),
        "overdue": args.get("overdue") == "yes",
        "mine": args.get("mine") == "yes",
        "final": args.get("final") == "yes",
        "sort": args.get("sort") if args.get("sort") in SORTS else "dueAt",
    }
    query = ProcessQuery(
        process_name=filters["process"] or None,
        patch=filters["patch"] or None,
        state=filters["state"] or None,
        overdue=True if filters["overdue"] else None,
        officer_id=g.actor["id"] if filters["mine"] else None,
        sort=filters["sort"],
    )
    patches = ctx.policy.patches(ctx.groups)
    if patches is not None and filters["patch"] and filters["patch"] not in patches:
        filters["patch"] = ""
        query = ProcessQuery(**{**query.__dict__, "patch": None})
    try:
        page = casework.worktray(
            repository(),
            query,
            PAGE_SIZE,
            args.get("page") or None,
            page_tokens(),
            ctx,
            include_final=filters["final"] or bool(filters["state"]),
        )
    except InvalidPageToken:
        return redirect(url_for("ui.worktray", **_without(args, "page", "n")))
    number = max(1, args.get("n", 1, type=int) or 1)
    moment = now()
    zone = settings().local_timezone
    rows = [_row(process, moment, zone) for process in page.processes]
    states = sorted(
        {state for d in names.values() for state in d.states if state != "ApplicationInitialised"},
        key=wording.state,
    )
    return render_template(
        "ui/worktray.html",
        title="Your worktray",
        rows=rows,
        filters=filters,
        definitions=sorted(names.values(), key=lambda d: d.title),
        patches=sorted(patches) if patches is not None else None,
        states=[(s, wording.state(s)) for s in states],
        sorts=SORTS,
        number=number,
        first=(number - 1) * PAGE_SIZE + 1,
        next_url=url_for(
            "ui.worktray", **_without(args, "page", "n"), page=page.next_token, n=number + 1
        )
        if page.next_token
        else None,
        first_url=url_for("ui.worktray", **_without(args, "page", "n")) if number > 1 else None,
    )


def _row(process: Process, moment: Any, zone: str) -> dict[str, Any]:
    definition = machines.get(process.process_name)
    entry = process.current_state
    final = definition is not None and definition.is_final(process.state)
    return {
        "url": url_for("ui.case", process_name=process.process_name, process_id=process.id),
        "target": target_label(process),
        "process": definition.title if definition else process.process_name,
        "patch": entry.assignment.get("patch") or "Unassigned",
        "officer": entry.assignment.get("officerName"),
        "state": wording.state(process.state),
        "time_left": "Finished" if final else wording.time_left(entry.due_at, moment, zone),
        "overdue": not final and wording.is_overdue(entry.due_at, moment),
        "updated": wording.when(process.updated_at, zone),
    }


def target_label(process: Process) -> str:
    """What the case is about in a few words: the property's address or the resident's name."""
    for target_type in ("asset", "tenure"):
        found = process.find_related(target_type)
        if found and found.get("description"):
            place = str(found["description"])
            tenant = process.find_related("person", "tenant")
            if tenant and tenant.get("description"):
                return f"{tenant['description']}, {place}"
            return place
    tenant = process.find_related("person", "tenant")
    if tenant and tenant.get("description"):
        return str(tenant["description"])
    return f"{process.target_type.capitalize()} {process.target_id[:8]}"


def _without(args: Any, *names: str) -> dict[str, Any]:
    return {key: value for key, value in args.items() if key not in names and value}
