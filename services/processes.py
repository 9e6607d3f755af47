"""Use cases on processes: start, read, list, fire a trigger, edit the current state.

Each change is decided by the process's machine, written in one version-conditioned update
together with its follow-ups (outbox), and only then handed to `dispatch`.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from statemachine.exceptions import TransitionNotAllowed

import machines
import settings
from machines.definition import INITIAL_STATE, START_TRIGGER, ProcessDefinition, Trigger
from machines.model import Actor, FollowUp, Process, StateEntry
from services import events
from services.authorisation import ALLOW_ALL, Forbidden, Policy
from services.errors import (
    Conflict,
    DataLocked,
    FieldError,
    InvalidInput,
    PreconditionFailed,
    ProcessEnded,
    TriggerNotAllowed,
    UnknownProcessName,
    UnknownTrigger,
)
from services.forms import check_storable, drop_unanswered, validate_form
from services.paging import PageTokens
from storage import ProcessQuery
from storage.errors import ProcessNotFound, StaleProcess

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
"""How often a change without If-Match is re-applied when a concurrent change wins."""

MB = 1024 * 1024
EDIT_BUDGET = 8 * MB
"""The size (BSON) past which a case takes no more growth from edits and documents."""
TRIGGER_BUDGET = 10 * MB
"""The size past which a case takes no more triggers: more than edits may grow it to, so a
case that reached its edit budget can still be moved on and closed. (The engine's own changes,
a step's outcome or a deadline, are small and never refused; MongoDB's limit is 16 MB.)"""


class Repository(Protocol):
    def add(self, process: Process) -> None: ...
    def get(self, process_id: str) -> Process: ...
    def save(self, process: Process) -> None: ...
    def check_size(self, process: Process, budget: int) -> None: ...
    def search(
        self, query: ProcessQuery, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Process]: ...


Dispatch = Callable[[str, list[FollowUp]], Collection[str] | None]
"""Hands follow-ups on (queues tasks, publishes events); returns the ids of those it has
done in place (events it published, or found published), which the process's next save
drops from the outbox (steps are dropped by the save of their outcome)."""

ExpectedVersion = int | frozenset[int] | None
"""The version(s) a client's If-Match names; None when it sent none."""


def version_matches(expected: ExpectedVersion, actual: int) -> bool:
    """Whether the stored version satisfies the client's If-Match."""
    if expected is None:
        return True
    if isinstance(expected, int):
        return expected == actual
    return actual in expected


def now() -> datetime:
    """The current UTC time at the millisecond precision MongoDB stores."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Context:
    """Who is acting, what they may do, and the correlation id of their request."""

    actor: Actor | None = None
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    clock: Callable[[], datetime] = now
    groups: frozenset[str] = frozenset()
    policy: Policy = ALLOW_ALL
    on_behalf_of: Actor | None = None
    """For the system's own work (a step): the officer whose request queued it."""

    @property
    def event_actor(self) -> Actor | None:
        """Whom events name as their user: the actor, else the officer the work is done for
        (None: the system itself, named by `events.SYSTEM_USER`)."""
        return self.actor or self.on_behalf_of


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
        events.event(
            "ProcessStartedEvent",
            process.id,
            old_data=None,
            new_data=summary,
            actor=ctx.event_actor,
            correlation_id=ctx.correlation_id,
            now=moment,
        )
    )
    process.add_follow_up(
        events.event(
            events.STARTED_AGAINST[target_type],
            process.target_id,
            old_data=None,
            new_data={"id": process.id, "processName": process.process_name},
            actor=ctx.event_actor,
            correlation_id=ctx.correlation_id,
            now=moment,
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
    ctx.policy.check_trigger(ctx.groups, trigger.name)
    form_data = drop_unanswered(trigger.form or {}, form_data)
    check_storable(form_data, "formData")
    if assignment is not None:
        check_storable(assignment, "assignment")
        ctx.policy.check_assign(ctx.groups, assignment.get("patch"))

    def change(process: Process) -> None:
        permitted = definition.permitted_triggers(process.state)
        if trigger.name not in permitted:
            raise _not_allowed(definition, trigger.name, process.state)
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
        repo, process_name, process_id, change, ctx, dispatch, expected_version, TRIGGER_BUDGET
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
            _assigned(process, old["assignment"], new["assignment"], ctx, moment)
        process.add_follow_up(
            events.event(
                "ProcessUpdatedEvent",
                process.id,
                old_data=_as_state_properties(old),
                new_data=_as_state_properties(new),
                actor=ctx.event_actor,
                correlation_id=ctx.correlation_id,
                now=moment,
            )
        )

    return apply_change(
        repo, process_name, process_id, change, ctx, dispatch, expected_version, EDIT_BUDGET
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
        ctx.policy.check_trigger(ctx.groups, entered_by.name)
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


def commit(
    repo: Repository,
    process: Process,
    dispatch: Dispatch,
    save: Callable[[Process], None] | None = None,
    *,
    budget: int | None = None,
) -> None:
    """Save the change made to `process` (with `repo.save`, or `save` where a change is written
    differently) and hand its follow-ups on. Raises `StaleProcess` (having written nothing)
    when the stored process moved on since it was read, and `ProcessTooLarge` (likewise) when
    the change would take it past `budget` bytes."""
    settle(process, dispatch)  # before measuring: what it finds done leaves with this save
    if budget is not None:
        repo.check_size(process, budget)
    (save or repo.save)(process)
    hand_on(process, dispatch)


def settle(process: Process, dispatch: Dispatch) -> None:
    """Hand on the events earlier changes left in the outbox, so that the next save drops them.

    An event stays in the outbox after it is published, until the process's next change takes
    it out in the same write as the change (a write of its own would double the writes per
    change) or the outbox sweep does. Publishing it again here is harmless, as the stream holds
    each event once, and makes sure that only events the stream has are dropped.
    """
    events = [f for f in process.outbox if f.kind == "event" and f.id not in process.done]
    if not events:
        return
    try:
        done = dispatch(process.id, events)
    except Exception:  # noqa: BLE001 - they stay in the outbox, for the sweep
        log.warning("events of %s stay in the outbox", process.id, exc_info=True)
        return
    process.done.update(done or ())


def hand_on(process: Process, dispatch: Dispatch) -> None:
    """Dispatch the follow-ups just stored.

    Each stays in the outbox until it is known to be done: an event until a later save or the
    outbox sweep finds it published (`settle`), a step until the worker that does it stores
    its outcome. So nothing is lost if dispatch fails here, or if the broker or a worker loses
    the message: the outbox sweep dispatches again whatever is still there after a grace period.
    """
    pending, process.follow_ups = process.follow_ups, []
    if not pending:
        return
    try:
        done = dispatch(process.id, pending)
    except Exception:  # noqa: BLE001 - the outbox keeps them; a sweeper dispatches them later
        log.warning("follow-ups of %s left in the outbox", process.id, exc_info=True)
        return
    process.done.update(done or ())


def apply_change(
    repo: Repository,
    process_name: str,
    process_id: str,
    change: Callable[[Process], None],
    ctx: Context,
    dispatch: Dispatch,
    expected_version: ExpectedVersion,
    budget: int | None = None,
) -> Process:
    """Apply `change` to the stored process and save it atomically, re-reading on conflict.

    With an expected version (If-Match) a conflict is a PreconditionFailed; without, the
    change is applied again to the fresh process, so no concurrent update is lost. A change
    that would take the process past `budget` bytes is refused (`ProcessTooLarge`).
    """
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            # Spread out writers that keep colliding on the same process.
            time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
        process = get(repo, process_name, process_id, ctx)
        if not version_matches(expected_version, process.version):
            raise PreconditionFailed(expected_version, process.version)
        change(process)
        if not process.has_unsaved_changes:
            return process  # nothing changed: no write, no event
        try:
            commit(repo, process, dispatch, budget=budget)
        except StaleProcess:
            if expected_version is not None:
                stored = repo.get(process_id).version
                raise PreconditionFailed(expected_version, stored) from None
            continue
        return process
    raise Conflict("The process kept changing while this request was applied; try again.")


def transition(
    definition: ProcessDefinition,
    process: Process,
    trigger: Trigger,
    form_data: dict[str, Any],
    documents: list[str],
    ctx: Context,
    assignment: dict[str, Any] | None = None,
) -> None:
    """Move `process` along `trigger`, recording the new state, its event and its step."""
    source = process.state
    try:
        target = definition.run(source, trigger.name, form_data)
    except TransitionNotAllowed:
        raise _not_allowed(definition, trigger.name, source) from None
    moment = ctx.clock()
    previous_assignment = process.current_state.assignment
    new_assignment = dict(assignment if assignment is not None else previous_assignment)
    new_assignment.update(definition.default_assignments.get(target, {}))
    entry = StateEntry(
        state=target,
        permitted_triggers=definition.permitted_triggers(target),
        assignment=new_assignment,
        form_data=form_data,
        documents=list(documents),
        trigger=trigger.name,
        acted_by=ctx.actor,
        created_at=moment,
        updated_at=moment,
        due_at=_due(definition, target, moment),
        reminder_at=_reminder(form_data, moment),
    )
    process.enter(entry)
    process.add_follow_up(
        events.event(
            definition.state_events.get(target, "ProcessUpdatedEvent"),
            process.id,
            old_data={"state": source},
            new_data={"state": target, "stateData": form_data, "stateStartedAt": _iso(moment)},
            actor=ctx.event_actor,
            correlation_id=ctx.correlation_id,
            now=moment,
        )
    )
    if new_assignment != previous_assignment:
        _assigned(process, previous_assignment, new_assignment, ctx, moment)
    queue_automated_step(definition, process, version_after_save=process.version + 1, ctx=ctx)


def _not_allowed(definition: ProcessDefinition, trigger: str, state: str) -> TriggerNotAllowed:
    if definition.is_final(state):
        why = " (the process has ended)"
    elif state in definition.automated_step_by_state:
        why = " until its automated step finishes"
    else:
        why = ""
    return TriggerNotAllowed(trigger, state, definition.permitted_triggers(state), why)


def queue_automated_step(
    definition: ProcessDefinition, process: Process, version_after_save: int, ctx: Context
) -> None:
    """Queue the current state's automated step, if it has one, and show it as queued."""
    step = definition.automated_step_by_state.get(process.state)
    if step is None:
        return
    moment = ctx.clock()
    process.current_state.automation = {
        "id": str(uuid.uuid4()),
        "step": step.step,
        "status": "queued",
        "queuedAt": moment,
    }
    process.add_follow_up(step_follow_up(process, version_after_save, ctx.event_actor, ctx))


def step_follow_up(
    process: Process, version_after_save: int, on_behalf_of: Actor | None, ctx: Context
) -> FollowUp:
    """The task that runs the step the current state's `automation` describes.

    The task names the automation it runs (a new id each time the step is queued): a worker
    runs it only while the process still waits for exactly that automation, whatever else
    (edits, documents) changed meanwhile, and a late or repeated delivery does nothing.
    """
    automation = process.current_state.automation or {}
    return FollowUp(
        kind="task",
        name=str(automation["step"]),
        payload={
            "processId": process.id,
            "processName": process.process_name,
            "state": process.state,
            "automationId": automation["id"],
            "version": version_after_save,
            "correlationId": ctx.correlation_id,
            "actor": on_behalf_of,
        },
        created_at=ctx.clock(),
    )


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
        due_at=_due(definition, state, moment),
    )


def _assigned(
    process: Process, old: dict[str, Any], new: dict[str, Any], ctx: Context, moment: datetime
) -> None:
    """Keep a reassignment in the activity trail and tell subscribers (ProcessAssigned)."""
    process.record("Assigned", ctx.actor, moment, old=old, new=new)
    process.add_follow_up(
        events.event(
            "ProcessAssigned",
            process.id,
            old_data={"assignment": old},
            new_data={"assignment": new, "state": process.state},
            actor=ctx.event_actor,
            correlation_id=ctx.correlation_id,
            now=moment,
        )
    )


def _reminder(form_data: dict[str, Any], moment: datetime) -> datetime | None:
    """When to remind about an appointment this form books: a set time before it, if that is
    still ahead. A time without an offset is local to the council (LOCAL_TIMEZONE)."""
    booked = form_data.get("appointmentDateTime")
    if not isinstance(booked, str):
        return None
    config = settings.from_env()
    try:
        at = datetime.fromisoformat(booked.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(config.local_timezone))
    remind = at.astimezone(UTC) - timedelta(hours=config.reminder_hours)
    return remind if remind > moment else None


def _due(definition: ProcessDefinition, state: str, moment: datetime) -> datetime | None:
    days = definition.time_limits_days.get(state)
    return moment + timedelta(days=days) if days else None


def _summary(process: Process) -> dict[str, Any]:
    return {
        "id": process.id,
        "processName": process.process_name,
        "targetId": process.target_id,
        "targetType": process.target_type,
        "relatedEntities": process.related_entities,
        "state": process.state,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
