"""The case page: summary, what the officer can do next, documents, history; reassigning and
retrying an automated step."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from api.deps import context, dispatcher, repository
from machines.definition import ProcessDefinition
from machines.model import Process
from services import automation, casework, definitions, documents, processes
from services.context import now
from services.errors import PreconditionFailed, ProcessEnded, TriggerNotAllowed
from ui import forms, loading, wording
from ui.blueprint import bp
from ui.deps import files, limits, ports, settings

WAITING = {"HOApproval": "Waiting for an area manager's decision"}
"""How the page names a step only others may take, where the generic words are too vague."""
RUNNING = ("queued", "running")


@bp.get("/cases/<process_name>/<process_id>")
def case(process_name: str, process_id: str) -> str:
    """Everything about a case, and a button for each thing the officer may do now."""
    return case_page(process_name, process_id)


def case_page(process_name: str, process_id: str, upload_error: str | None = None) -> str:
    """The case page; `upload_error` says why the file just sent was refused."""
    definition, process = loading.case(process_name, process_id)
    ctx = context()
    zone = settings().local_timezone
    acts = casework.actions(definition, process, ctx)
    entry = process.current_state
    step = definition.automated_step_by_state.get(process.state)
    run = entry.automation or {}
    found = casework.target(ports(), process.target_type, process.target_id)
    attached = documents.list_documents(repository(), files(), process_name, process.id, ctx)
    final = definition.is_final(process.state)
    return render_template(
        "ui/case.html",
        title=f"{definition.title}: {found.title}",
        definition=definition,
        process=process,
        target=found,
        details=[(label, _dated(value)) for label, value in found.details],
        final=final,
        state=wording.state(process.state),
        time_left=None if final else wording.time_left(entry.due_at, now(), zone),
        overdue=not final and wording.is_overdue(entry.due_at, now()),
        due=wording.when(entry.due_at, zone) if entry.due_at else None,
        patch=entry.assignment.get("patch"),
        officer_name=entry.assignment.get("officerName"),
        team=entry.assignment.get("team"),
        related=[e for e in process.related_entities if e.get("targetType") == "person"],
        actions=[(name, wording.trigger(definition, name)) for name in acts.sendable],
        waiting=[_waiting(definition, name, groups) for name, groups in acts.others_only],
        step=wording.step(step.step) if step else None,
        step_running=step is not None and run.get("status") in RUNNING,
        step_failed=step is not None and run.get("status") == "failed",
        step_reason=run.get("reason"),
        eligibility=_eligibility(process),
        documents=[_document(info, process, zone) for info in attached],
        limits=_limits_words(),
        history=history(definition, process, zone),
        diagram=definitions.graphviz() is not None,
        started=wording.when(process.created_at, zone),
        updated=wording.when(process.updated_at, zone),
        errors={"file": upload_error} if upload_error else {},
    )


@bp.get("/cases/<process_name>/<process_id>/status")
def status(process_name: str, process_id: str) -> Response:
    """The case's version and step status, which the page polls while a step runs."""
    _, process = loading.case(process_name, process_id)
    run = process.current_state.automation or {}
    return jsonify(version=process.version, state=process.state, step=run.get("status"))


@bp.get("/cases/<process_name>/<process_id>/diagram.svg")
def diagram(process_name: str, process_id: str) -> Response:
    """The case drawn on its definition, its current state and path highlighted."""
    _, process = loading.case(process_name, process_id)
    if definitions.graphviz() is None:
        abort(404)
    drawn = definitions.process_diagram(process, "svg")
    return Response(drawn.content, mimetype=drawn.media_type)


@bp.post("/cases/<process_name>/<process_id>/retry")
def retry(process_name: str, process_id: str) -> BaseResponse:
    """Queue a failed automated step again."""
    expected = loading.version(request.form.get("version"))
    try:
        automation.retry(
            repository(),
            process_name,
            process_id,
            context(),
            dispatcher(),
            expected_version=expected,
        )
    except (PreconditionFailed, TriggerNotAllowed):
        flash("The case had already moved on: check it below.")
    else:
        flash("Trying the automatic step again.")
    return redirect(url_for("ui.case", process_name=process_name, process_id=process_id))


@bp.route("/cases/<process_name>/<process_id>/assign", methods=["GET", "POST"])
def assign(process_name: str, process_id: str) -> BaseResponse | str | tuple[str, int]:
    """Give the case to another patch or officer."""
    definition, process = loading.case(process_name, process_id)
    ctx = context()
    current = process.current_state.assignment
    patches = ctx.policy.patches(ctx.groups)
    colleagues = _colleagues(process, ctx.actor, current.get("officerId"))
    values = {
        "patch": request.form.get("patch", current.get("patch") or ""),
        "officer": request.form.get("officer", "keep"),
    }
    errors: dict[str, str] = {}
    problem = None
    version = process.version
    if request.method == "POST":
        version = loading.version(request.form.get("version"))
        patch = values["patch"].strip()
        if patches is not None and patch and patch not in patches:
            errors["patch"] = "Select one of your patches"
        if values["officer"] not in ("keep", "me", "none", *colleagues):
            errors["officer"] = "Select who works on the case"
        if not errors:
            assignment = {k: v for k, v in current.items() if k not in ("patch",)}
            if patch:
                assignment["patch"] = patch
            if values["officer"] == "me":
                officer = ctx.actor or {}
                assignment["officerId"] = officer.get("id")
                assignment["officerName"] = officer.get("name") or officer.get("email")
            elif values["officer"] == "none":
                assignment.pop("officerId", None)
                assignment.pop("officerName", None)
            elif values["officer"] in colleagues:
                assignment["officerId"] = values["officer"]
                assignment["officerName"] = colleagues[values["officer"]]
            try:
                processes.update(
                    repository(),
                    process_name,
                    process.id,
                    ctx,
                    dispatcher(),
                    assignment=assignment,
                    expected_version=version,
                )
            except PreconditionFailed as stale:
                problem = "Someone else changed this case since you opened this page. Check "
                problem += "the case, then save again."
                version = stale.actual
            except ProcessEnded:
                problem = "This case has ended, so it can no longer be reassigned."
            else:
                flash("Case reassigned.")
                return redirect(
                    url_for("ui.case", process_name=process_name, process_id=process_id)
                )
    page = render_template(
        "ui/assign.html",
        title="Reassign the case",
        definition=definition,
        process=process,
        version=version,
        values=values,
        errors=errors,
        problem=problem,
        patches=sorted(patches) if patches is not None else None,
        current=current,
        colleagues=colleagues,
    )
    return (page, 422) if errors or problem else page


def _colleagues(
    process: Process, me: dict[str, Any] | None, current_officer: str | None
) -> dict[str, str]:
    """The officers who have worked on the case (entered a state or an activity), by id, with
    their names: who a case can be handed back to without a directory of staff. Neither the
    officer reassigning nor the one it is with now; never the system's own changes."""
    found: dict[str, str] = {}
    actors = [entry.acted_by for entry in process.states] + [a.acted_by for a in process.activity]
    for actor in filter(None, actors):
        officer_id = actor.get("id")
        if not officer_id or officer_id in ((me or {}).get("id"), current_officer):
            continue
        found.setdefault(
            str(officer_id), str(actor.get("name") or actor.get("email") or officer_id)
        )
    return found


def _dated(value: str) -> str:
    """A yyyy-mm-dd value as officers read dates; anything else as it is."""
    return wording.day(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else value


def _waiting(definition: ProcessDefinition, name: str, groups: tuple[str, ...]) -> str:
    if name in WAITING:
        return WAITING[name]
    who = next((wording.ROLES[g] for g in groups if g in wording.ROLES), "someone else")
    title = wording.trigger(definition, name)
    return f"Waiting for {who}: {title[:1].lower()}{title[1:]}"


def _eligibility(process: Process) -> list[dict[str, Any]] | None:
    """The latest automatic eligibility check's rules, in words."""
    for entry in reversed(process.states):
        checks = entry.form_data.get("eligibilityChecks")
        if isinstance(checks, list):
            return [
                {"id": c.get("id"), "passed": bool(c.get("passed")), "reason": c.get("reason")}
                for c in checks
                if isinstance(c, dict)
            ]
    return None


def _document(info: Any, process: Process, zone: str) -> dict[str, Any]:
    return {
        "id": info.id,
        "filename": info.filename,
        "kind": documents.TYPE_NAMES.get(info.content_type, info.content_type),
        "size": documents.describe_size(info.size),
        "uploaded": wording.when(info.uploaded_at, zone),
        "by": (info.uploaded_by or {}).get("name"),
    }


def _limits_words() -> str:
    found = limits()
    kinds = ", ".join(documents.TYPE_NAMES.get(t, t) for t in found.allowed_types)
    return f"{kinds}, up to {documents.describe_size(found.max_bytes)}"


def history(definition: ProcessDefinition, process: Process, zone: str) -> list[dict[str, Any]]:
    """Every state the case entered and everything done to it, newest first."""
    items: list[tuple[Any, dict[str, Any]]] = []
    for entry in process.states:
        trigger = definition.trigger_by_name.get(entry.trigger or "")
        rows: list[tuple[str, str]] = []
        if trigger is not None and trigger.form:
            rows = forms.answers(forms.questions(trigger.form), entry.form_data)
        elif entry.form_data:
            rows = [
                (forms.words(key), _plain(value))
                for key, value in entry.form_data.items()
                if key != "eligibilityChecks"
            ]
        if entry.trigger and trigger is not None and trigger.form is not None:
            happened = wording.trigger(definition, entry.trigger)
        else:
            happened = None
        items.append(
            (
                entry.created_at,
                {
                    "title": wording.state(entry.state),
                    "action": happened,
                    "who": _who(entry.acted_by),
                    "when": wording.when(entry.created_at, zone),
                    "rows": rows,
                },
            )
        )
    for activity in process.activity:
        details = activity.details
        rows = []
        if details.get("filename"):
            rows.append(("File", str(details["filename"])))
        if activity.kind == "Assigned":
            new = details.get("new") or {}
            rows.append(("Patch", str(new.get("patch") or "Unassigned")))
            if new.get("officerName"):
                rows.append(("Officer", str(new["officerName"])))
        if details.get("reason"):
            rows.append(("Reason", str(details["reason"])))
        if activity.kind == "StateDataUpdated":
            rows.append(("Changed", ", ".join(forms.words(c) for c in details.get("changed", []))))
        items.append(
            (
                activity.at,
                {
                    "title": wording.activity(activity.kind),
                    "action": None,
                    "who": _who(activity.acted_by),
                    "when": wording.when(activity.at, zone),
                    "rows": rows,
                },
            )
        )
    # Newest first; among entries of the same moment, the one recorded last.
    order = sorted(range(len(items)), key=lambda i: (items[i][0], i), reverse=True)
    return [items[i][1] for i in order]


def _who(actor: dict[str, Any] | None) -> str:
    if not actor:
        return "The system"
    return str(actor.get("name") or actor.get("email") or actor.get("id") or "Someone")


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | dict):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(value)
