"""A trigger's page: its form drawn from the schema, Check your answers where the effect
cannot be undone, then the trigger sent with the case's version as If-Match."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.deps import context, dispatcher, repository
from machines.definition import ProcessDefinition, Trigger
from machines.model import Process
from services import casework, processes
from services.errors import (
    InvalidInput,
    PreconditionFailed,
    ProcessEnded,
    TriggerNotAllowed,
)
from services.forms import validate_form
from ui import forms, loading, wording
from ui.blueprint import bp
from ui.deps import ports

STALE = (
    "Someone else changed this case since you opened this page. Your answers are below: check "
    "the case, then send them again."
)


@bp.route("/cases/<process_name>/<process_id>/<trigger>", methods=["GET", "POST"])
def action(process_name: str, process_id: str, trigger: str) -> Response | str | tuple[str, int]:
    """Show the trigger's form; on POST, check the answers or send them."""
    definition, process = loading.case(process_name, process_id)
    found = definition.client_triggers.get(trigger)
    if found is None:
        abort(404)
    asked = forms.questions(found.form or {}, _people(definition, process, found))
    if request.method == "GET":
        if trigger not in casework.actions(definition, process, context()).sendable:
            return _cannot(definition, process, found)
        return _form(definition, process, found, asked, {}, {}, process.version)
    version = loading.version(request.form.get("version"))
    values = forms.typed(asked, request.form)
    data = forms.form_data(asked, values)
    confirm = bool((found.form or {}).get("x-ui", {}).get("confirm"))
    if request.form.get("change") == "yes":
        return _form(definition, process, found, asked, values, {}, version)
    if confirm and request.form.get("confirmed") != "yes":
        try:
            validate_form(found.form or {}, data, found.name)
        except InvalidInput as invalid:
            return _form(
                definition, process, found, asked, values, _errors(asked, invalid), version, 422
            )
        return render_template(
            "ui/check.html",
            title="Check your answers",
            definition=definition,
            process=process,
            trigger=found,
            heading=wording.trigger(definition, found.name),
            answers=forms.answers(asked, data),
            values=values,
            version=version,
        )
    try:
        processes.fire(
            repository(),
            process_name,
            process.id,
            found.name,
            data,
            [],
            context(),
            dispatcher(),
            expected_version=version,
        )
    except InvalidInput as invalid:
        return _form(
            definition, process, found, asked, values, _errors(asked, invalid), version, 422
        )
    except PreconditionFailed as stale:
        return _form(definition, process, found, asked, values, {}, stale.actual, 409, STALE)
    except (TriggerNotAllowed, ProcessEnded):
        fresh = processes.get(repository(), process_name, process.id, context())
        return _cannot(definition, fresh, found)
    flash(f"{wording.trigger(definition, found.name)}: done.")
    return redirect(url_for("ui.case", process_name=process_name, process_id=process.id))


def _form(
    definition: ProcessDefinition,
    process: Process,
    trigger: Trigger,
    asked: list[forms.Question],
    values: dict[str, str],
    errors: dict[str, str],
    version: int,
    status: int = 200,
    problem: str | None = None,
) -> str | tuple[str, int]:
    schema = trigger.form or {}
    page = render_template(
        "ui/action.html",
        title=wording.trigger(definition, trigger.name),
        description=schema.get("description"),
        definition=definition,
        process=process,
        trigger=trigger,
        questions=asked,
        values=values,
        errors=errors,
        anchors={q.name: q.anchor for q in asked},
        problem=problem,
        version=version,
        confirm=bool(schema.get("x-ui", {}).get("confirm")),
    )
    return (page, status) if status != 200 else page


def _cannot(definition: ProcessDefinition, process: Process, trigger: Trigger) -> tuple[str, int]:
    """The page for a trigger the officer may not send now (the case moved on, or it is for
    someone else)."""
    return (
        render_template(
            "ui/cannot.html",
            title="You cannot do this now",
            definition=definition,
            process=process,
            action=wording.trigger(definition, trigger.name),
            state=wording.state(process.state),
        ),
        409,
    )


def _errors(asked: list[forms.Question], invalid: InvalidInput) -> dict[str, str]:
    found = forms.messages(asked, invalid.errors)
    if "documents" in found:
        found["documents"] = "Upload at least one document to the case before checking them"
    return found


def _people(
    definition: ProcessDefinition, process: Process, trigger: Trigger
) -> list[tuple[str, str]]:
    """Who a question about a person may choose from: adult household members of the tenure
    who are not tenants (the incoming joint tenant)."""
    properties: dict[str, Any] = (trigger.form or {}).get("properties", {})
    if not any((p.get("x-ui") or {}).get("widget") == "person" for p in properties.values()):
        return []
    found = casework.target(ports(), process.target_type, process.target_id)
    return [
        (person.id, f"{person.name} (born {wording.day(person.date_of_birth)})")
        for person in casework.proposed_tenants(found)
    ]
