"""Starting a case: choose the process, say who it is about, confirm consent and the patch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.deps import context, dispatcher, repository
from services import casework, processes
from storage import local_services
from ui import loading
from ui.blueprint import bp
from ui.deps import ports, settings

CONSENT = (
    "I have told the resident that the information they give will be shared with other "
    "council services and third parties to check their application and to prevent fraud"
)
TARGET_WORDS = {"tenure": "tenure", "person": "person"}
DEMO_TARGETS = {
    "tenure": [
        (local_services.DEMO_SOLE_TENURE_ID, "Flat 3, 12 Mare Street (secure, sole tenancy)"),
        (local_services.DEMO_NON_SECURE_TENURE_ID, "Flat 9, 2 Well Street (non-secure)"),
    ],
    "person": [
        (local_services.DEMO_TENANT_ID, "Alex Morgan, tenant of Flat 3, 12 Mare Street"),
    ],
}
"""The records `flask --app api seed-demo` writes, offered in development mode."""


@bp.get("/start")
def start_list() -> str:
    """The processes the officer may start."""
    return render_template(
        "ui/start_list.html", title="Start a case", definitions=casework.startable(context())
    )


@bp.route("/start/<process_name>", methods=["GET", "POST"])
def start(process_name: str) -> Response | str | tuple[str, int]:
    """Who the case is about, the people it involves, the patch and consent; then start it."""
    definition = processes.definition_named(process_name)
    ctx = context()
    target_id = (request.values.get("targetId") or "").strip()
    patches = ctx.policy.patches(ctx.groups)
    common = {
        "title": f"Start a {definition.title.lower()} case",
        "definition": definition,
        "target_words": TARGET_WORDS.get(definition.target_type, definition.target_type),
        "demo": DEMO_TARGETS.get(definition.target_type, [])
        if settings().development_mode
        else [],
        "patches": sorted(patches) if patches is not None else None,
        "consent": CONSENT,
    }
    if not target_id:
        return render_template("ui/start.html", target=None, errors={}, values={}, **common)
    loading.uuid_or_404(target_id)
    found = casework.target(ports(), definition.target_type, target_id)
    if not found.found:
        errors = {"targetId": f"There is no {common['target_words']} with this ID"}
        return (
            render_template(
                "ui/start.html",
                target=None,
                errors=errors,
                values={"targetId": target_id},
                **common,
            ),
            404,
        )
    default_patch = _patch_of(found.record) or (sorted(patches)[0] if patches else "")
    values = {
        "targetId": target_id,
        "patch": request.form.get("patch", default_patch),
        "consent": request.form.get("consent", ""),
    }
    errors = {}
    if request.method == "POST":
        if values["consent"] != "yes":
            errors["consent"] = (
                "Confirm that you have told the resident how their information is used"
            )
        if patches is not None and values["patch"] and values["patch"] not in patches:
            errors["patch"] = "Select one of your patches"
        if not errors:
            new = processes.NewProcess(
                process_name=definition.name,
                target_id=found.id,
                target_type=definition.target_type,
                related_entities=casework.start_related_entities(found),
                assignment={"patch": values["patch"]} if values["patch"] else {},
            )
            process = processes.start(repository(), new, ctx, dispatcher())
            flash(f"{definition.title} case started.")
            return redirect(
                url_for("ui.case", process_name=definition.name, process_id=process.id)
            )
    page = render_template(
        "ui/start.html",
        target=found,
        related=casework.start_related_entities(found),
        errors=errors,
        values=values,
        ages={p.id: p.age(datetime.now(UTC).date()) for p in found.people},
        **common,
    )
    return (page, 422) if errors else page


def _patch_of(record: dict[str, Any]) -> str | None:
    """The patch a tenure's property (or a person's) is on, where the record says."""
    for holder in (record, record.get("tenuredAsset") or {}):
        patch = holder.get("patch") or holder.get("patchName")
        if isinstance(patch, str) and patch:
            return patch
    return None
