"""Use cases on processes: start, read, list, fire a trigger, edit the current state.

Each change is decided by the process's machine (`transitions`), written in one
version-conditioned update together with its follow-ups (`commit`, `outbox`)."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

import machines
from machines.definition import INITIAL_STATE, START_TRIGGER, ProcessDefinition, Trigger
from machines.errors import ProcessNotFound
from machines.model import Process, StateEntry
from machines.ports import Dispatch, Repository
from machines.queries import ProcessQuery
from services import events
from services.authorisation import Forbidden
from services.commit import EDIT_BUDGET, TRIGGER_BUDGET, apply_change
from services.context import Context, ExpectedVersion
from services.errors import (
    DataLocked,
    FieldError,
    InvalidInput,
    ProcessEnded,
    UnknownProcessName,
    UnknownTrigger,
)
from services.forms import check_storable, drop_unanswered, validate_form
from services.outbox import hand_on
from services.paging import PageTokens
from services.transitions import assigned, due, not_allowed, queue_automated_step, transition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewProcess:
    """What a client sends to start a process."""

    process_name: str
    target_id: str
    target_type: str | None = None
    related_entities: list[dict[str, Any]] = field(default_factory=list)
    form_data: dict[str, Any] = field(default_factory=dict)
    documents: list[str] = field(default_factory=list)
    assignment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One page of a listing and the token for the next one (None on the last page)."""

    processes: list[Process]
    next_token: str | None


def definition_named(name: str) -> ProcessDefinition:
    """The definition called `name`, or `UnknownProcessName`."""
    definition = machines.get(name)
    if definition is None:
        raise UnknownProcessName(name, sorted(machines.registry()))
    return definition


def start(repo: Repository, request: NewProcess, ctx: Context, dispatch: Dispatch) -> Process:
    """Create a process, move it to its first state, store it and hand on its follow-ups."""
    definition = definition_named(request.process_name)
    target_type = request.target_type or definition.target_type
    if target_type != definition.target_type:
        raise InvalidInput(
            f"A {definition.name} process is about a {definition.target_type}.",
            [
                FieldError(
                    "targetType", f"Must be {definition.target_type!r} for {definition.name}."
                )
            ],
            unprocessable=True,
        )
    ctx.policy.check_start(ctx.groups, definition.name, request.assignment.get("patch"))
    request = replace(request, form_data=drop_unanswered(definition.start_form, request.form_data))
    check_storable(request.form_data, "formData")
    check_storable(request.related_entities, "relatedEntities")
    check_storable(request.assignment, "assignment")
    validate_form(definition.start_form, request.form_data, f"starting {definition.name}")

    moment = ctx.clock()
    initial = _entry(definition, INITIAL_STATE, None, request, ctx, moment)
    initial.permitted_triggers = []
    process = Process(
        id=str(uuid.uuid4()),
        process_name=definition.name,
        target_id=request.target_id,
        target_type=target_type,
        related_entities=list(request.related_entities),
        current_state=initial,
        previous_states=[],
        definition_version=definition.version,
        created_at=moment,
        updated_at=moment,
        created_by=ctx.actor,
    )
    first = definition.run(INITIAL_STATE, START_TRIGGER, request.form_data)
    process.enter(_entry(definition, first, START_TRIGGER, request, ctx, moment))
    summary = _summary(process)
    process.add_follow_up(
        events.raised(ctx, "ProcessStartedEvent", process.id, old=None, new=summary, at=moment)
    )
    process.add_follow_up(
        events.raised(
            ctx,
            events.STARTED_AGAINST[target_type],
            process.target_id,
            old=None,
            new={"id": process.id, "processName": process.process_name},
            at=moment,
        )
    )
    queue_automated_step(definition, process, version_after_save=0, ctx=ctx)
    repo.add(process)
    hand_on(process, dispatch)
    return process


def get(
    repo: Repository, process_name: str, process_id: str, ctx: Context | None = None
) -> Process:
    """The process `process_id`, which must be of type `process_name` (and, given a caller's
    context, on one of their patches)."""
    definition_named(process_name)
    process = repo.get(process_id)
    if process.process_name != process_name:
        # The URL names the process type: a process of another type is not found here.
        raise ProcessNotFound(process_id)
    if ctx is not None:
        ctx.policy.check_access(ctx.groups, process)
    return process


def fire(
    repo: Repository,
    process_name: str,
    process_id: str,
    trigger_name: str,
    form_data: dict[str, Any],
    documents: list[str],
    ctx: Context,
    dispatch: Dispatch,
    *,
    assignment: dict[str, Any] | None = None,
    expected_version: ExpectedVersion = None,
) -> Process:
    """Send a client trigger to a process and store the state it leads to.

    An `assignment` sent with the trigger becomes the new state's; otherwise it carries over.
    """
    definition = definition_named(process_name)
    trigger = definition.client_triggers.get(trigger_name)
    if trigger is None:
        raise UnknownTrigger(trigger_name, process_name, sorted(definition.client_triggers))
    ctx.policy.check_trigger(ctx.groups, definition, trigger.name)
    form_data = drop_unanswered(trigger.form or {}, form_data)
    check_storable(form_data, "formData")
    if assignment is not None:
        check_storable(assignment, "assignment")
        ctx.policy.check_assign(ctx.groups, assignment.get("patch"))

    def change(process: Process) -> None:
        permitted = definition.permitted_triggers(process.state)
        if trigger.name not in permitted:
            raise not_allowed(definition, trigger.name, process.state)
        validate_form(trigger.form or {}, form_data, trigger.name)
        # Requirements are judged on the process as this request leaves it: the documents it
        # brings count as attached (ReviewDocuments names the ones reviewed).
        brought = [*process.current_state.documents, *documents]
        left = replace(process, current_state=replace(process.current_state, documents=brought))
        unmet = [r for r in trigger.requires if not r.check(left, form_data)]
        if unmet:
            raise InvalidInput(
                f"{trigger.name} cannot be sent yet: " + " ".join(r.message for r in unmet),
                [FieldError(r.field, r.message) for r in unmet],
                unprocessable=True,
            )
        transition(definition, process, trigger, form_data, documents, ctx, assignment)

    return apply_change(
        repo,
        partial(get, repo, process_name, process_id, ctx),
        change,
        dispatch,
        expected_version,
        TRIGGER_BUDGET,
    )


def update(
    repo: Repository,
    process_name: str,
    process_id: str,
    ctx: Context,
    dispatch: Dispatch,
    *,
    form_data: dict[str, Any] | None = None,
    documents: list[str] | None = None,
    assignment: dict[str, Any] | None = None,
    expected_version: ExpectedVersion = None,
) -> Process:
    """Edit the current state's form data, documents or assignment without a transition.

    Form data is merged key by key and must still satisfy the schema of the trigger that
    entered the state; only those who may send that trigger may edit it, and neither a
    decision's answers nor what a step recorded can be edited at all. The audit trail and
    the event carry only what changed. Nothing is written, and no event raised, when nothing
    changes.
    """
    definition = definition_named(process_name)
    for value, where in ((form_data, "formData"), (assignment, "assignment")):
        if value is not None:
            check_storable(value, where)
    if assignment is not None:
        ctx.policy.check_assign(ctx.groups, assignment.get("patch"))

    def change(process: Process) -> None:
        if definition.is_final(process.state):
            raise ProcessEnded(process.state)
        current = process.current_state
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        if form_data is not None:
            changed = {
                key: value
                for key, value in form_data.items()
                if key not in current.form_data or current.form_data[key] != value
            }
            if changed:
                entered_by = _check_form_editable(definition, process, changed, ctx)
                merged = {**current.form_data, **changed}
                if entered_by is not None and entered_by.form is not None:
                    validate_form(entered_by.form, merged, f"the {current.state} state")
                old["formData"] = {
                    key: current.form_data[key] for key in changed if key in current.form_data
                }
                new["formData"] = changed
                current.form_data = merged
        if documents is not None and documents != current.documents:
            old["documents"], new["documents"] = current.documents, list(documents)
            current.documents = list(documents)
        if assignment is not None and assignment != current.assignment:
            old["assignment"], new["assignment"] = current.assignment, dict(assignment)
            current.assignment = dict(assignment)
        if not new:
            return
        moment = ctx.clock()
        current.updated_at = moment
        process.updated_at = moment
        process.record(
            "StateDataUpdated",
            ctx.actor,
            moment,
            changed=sorted(new),
            old=_for_the_trail(old),
            new=_for_the_trail(new),
        )
        if "assignment" in new:
            assigned(process, old["assignment"], new["assignment"], ctx, moment)
        process.add_follow_up(
            events.raised(
                ctx,
                "ProcessUpdatedEvent",
                process.id,
                old=_as_state_properties(old),
                new=_as_state_properties(new),
                at=moment,
            )
        )

    return apply_change(
        repo,
        partial(get, repo, process_name, process_id, ctx),
        change,
        dispatch,
        expected_version,
        EDIT_BUDGET,
    )


def _check_form_editable(
    definition: ProcessDefinition, process: Process, changed: dict[str, Any], ctx: Context
) -> Trigger | None:
    """The trigger that entered the current state, if the caller may change these answers of
    it; else `Forbidden` (they may not send that trigger) or `DataLocked`."""
    state = process.current_state
    entered_by = definition.trigger_by_name.get(state.trigger or "")
    if entered_by is None or entered_by.name == START_TRIGGER:
        ctx.policy.check_start(ctx.groups, definition.name, state.assignment.get("patch"))
        return entered_by
    if not entered_by.client:
        raise DataLocked(
            f"The data of {state.state} was recorded by the system ({entered_by.name}) and "
            "cannot be edited.",
            list(changed),
        )
    try:
        ctx.policy.check_trigger(ctx.groups, definition, entered_by.name)
    except Forbidden:
        raise Forbidden(
            f"Only those who may send {entered_by.name} may edit the answers it recorded."
        ) from None
    if entered_by.decides:
        raise DataLocked(
            f"These answers decided the outcome of {entered_by.name} ({state.state}) and can "
            "no longer be changed; to revisit the decision, close or cancel the case and "
            "start again.",
            list(changed),
        )
    return entered_by


def _as_state_properties(changes: dict[str, Any]) -> dict[str, Any]:
    """Changes named as the state's properties, as the existing API's consumers read an edit:
    `processData` (its changed `formData` keys and `documents`) and `assignment`."""
    shaped: dict[str, Any] = {}
    data = {key: changes[key] for key in ("formData", "documents") if key in changes}
    if data:
        shaped["processData"] = data
    if "assignment" in changes:
        shaped["assignment"] = changes["assignment"]
    return shaped


TRAIL_VALUE_LIMIT = 4096
"""Characters (as JSON) of one edited value the audit trail keeps; larger values are noted by
size only, so that repeated large edits cannot grow a case without bound (the state itself
holds the current value, the edit's event the old and new ones)."""


def _for_the_trail(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as the audit trail keeps it: form values over `TRAIL_VALUE_LIMIT` by size only."""
    kept = dict(data)
    form = kept.get("formData")
    if isinstance(form, dict):
        kept["formData"] = {
            key: value
            if (size := len(json.dumps(value))) <= TRAIL_VALUE_LIMIT
            else {"omitted": f"{size} characters, too large for the audit trail"}
            for key, value in form.items()
        }
    return kept


def list_for_target(
    repo: Repository, target_id: str, page_size: int, token: str | None, tokens: PageTokens
) -> Page:
    """Processes about a target, newest first, a page at a time."""
    return search(repo, ProcessQuery(target_id=target_id), page_size, token, tokens)


def search(
    repo: Repository,
    query: ProcessQuery,
    page_size: int,
    token: str | None,
    tokens: PageTokens,
    ctx: Context | None = None,
) -> Page:
    """A page of the processes matching `query` (a listing or a worktray) that the caller may
    see, in the query's order, with the token of the next page (None on the last page)."""
    if ctx is not None:
        patches = ctx.policy.patches(ctx.groups)
        if patches is not None:
            if query.patch is not None and query.patch not in patches:
                raise Forbidden(f"Patch {query.patch!r} is not yours.")
            query = replace(query, within_patches=patches)
    after = tokens.position(token, query.sort) if token else None
    # One extra row tells whether another page exists, so the last page has no token.
    rows = repo.search(query, page_size + 1, after)
    page, more = rows[:page_size], len(rows) > page_size
    next_token = tokens.after(page[-1], query.sort) if more and page else None
    return Page(page, next_token)


def _entry(
    definition: ProcessDefinition,
    state: str,
    trigger: str | None,
    request: NewProcess,
    ctx: Context,
    moment: datetime,
) -> StateEntry:
    return StateEntry(
        state=state,
        permitted_triggers=definition.permitted_triggers(state),
        assignment=dict(request.assignment),
        form_data=dict(request.form_data),
        documents=list(request.documents),
        trigger=trigger,
        acted_by=ctx.actor,
        created_at=moment,
        updated_at=moment,
        due_at=due(definition, state, moment),
    )


def _summary(process: Process) -> dict[str, Any]:
    return {
        "id": process.id,
        "processName": process.process_name,
        "targetId": process.target_id,
        "targetType": process.target_type,
        "relatedEntities": process.related_entities,
        "state": process.state,
    }
