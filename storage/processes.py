"""Load and save processes. The only module that knows their MongoDB document shape.

A process is one document: its current state, the states before it, and an outbox of
follow-ups (steps to queue, events to publish) written in the same atomic update as the
change that caused them. Every write is conditioned on `version`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from bson import decode as bson_decode
from bson import encode as bson_encode
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from machines.errors import ProcessNotFound, ProcessTooLarge, StaleProcess
from machines.model import Activity, FollowUp, Process, StateEntry
from machines.queries import ProcessQuery

INDEXES = [
    IndexModel(
        [("targetId", ASCENDING), ("createdAt", DESCENDING), ("_id", DESCENDING)],
        name="by_target_newest_first",
    ),
    IndexModel(
        [("processName", ASCENDING), ("currentState.state", ASCENDING)],
        name="by_process_and_state",
    ),
    # A patch's worktray, recently updated first; its prefix serves "every case of a patch".
    IndexModel(
        [("currentState.assignment.patch", ASCENDING), ("updatedAt", DESCENDING)],
        name="by_patch_recently_updated",
    ),
    # A patch's open cases by deadline (patch, state, sort=dueAt); its prefix serves a patch's
    # cases in one state.
    IndexModel(
        [
            ("currentState.assignment.patch", ASCENDING),
            ("currentState.state", ASCENDING),
            ("currentState.dueAt", ASCENDING),
        ],
        name="by_patch_state_due_soonest",
    ),
    IndexModel([("outbox.createdAt", ASCENDING)], name="by_pending_follow_up"),
    IndexModel([("currentState.dueAt", ASCENDING)], name="by_due_date"),
    IndexModel([("currentState.reminderAt", ASCENDING)], name="by_reminder_time"),
    IndexModel(
        [("currentState.assignment.officerId", ASCENDING), ("updatedAt", DESCENDING)],
        name="by_officer_recent_first",
    ),
    IndexModel(
        [("currentState.state", ASCENDING), ("updatedAt", DESCENDING)],
        name="by_state_recent_first",
    ),
    IndexModel(
        [("currentState.overdue", ASCENDING), ("currentState.dueAt", ASCENDING)],
        name="by_overdue_soonest_first",
    ),
    # Automated steps still waiting, oldest first: the sweep for steps left without a task.
    IndexModel(
        [
            ("currentState.automation.status", ASCENDING),
            ("currentState.automation.queuedAt", ASCENDING),
        ],
        name="by_automation_waiting_longest",
    ),
    IndexModel([("createdAt", DESCENDING), ("_id", DESCENDING)], name="newest_first"),
    IndexModel([("updatedAt", DESCENDING), ("_id", DESCENDING)], name="recently_updated_first"),
]

RETIRED_INDEXES = ["by_patch_and_state", "by_follow_up_id"]
"""Indexes earlier versions created that none of today's queries need: each costs every write."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FIRST_SLICE = timedelta(hours=1)
SLICE_GROWTH = 8
LONGEST_SLICE = timedelta(days=2 * 366)
"""A worktray page is read in slices of its sort key's time, from now (or from the previous
page) outwards, each `SLICE_GROWTH` times wider than the last, until the page is full; past
`LONGEST_SLICE` the rest is one open-ended read. Each slice is an index range, so a page costs
about the rows near it, not every case of the patch: some stores (SecantusDB) fetch and sort
every match of a filter before applying the limit, even from an index in sort order."""


def _slice_keys() -> frozenset[tuple[frozenset[str], str]]:
    """(equality fields, range field) pairs an index serves exactly: its last field after the
    others. (SecantusDB 0.7 drops a range's inclusive edge on a field that other fields follow
    in the index, so a slice must not end on one.)"""
    pairs = set()
    for index in INDEXES:
        *equal, last = index.document["key"]
        if equal:
            pairs.add((frozenset(equal), last))
    return frozenset(pairs)


SLICEABLE = _slice_keys()

PAGING_STRATEGIES = ("keyset", "time-slices")
"""How a page of a listing is read. `keyset`: one index range from the previous page's last
row, in sort order, limited by the server, as MongoDB serves it. `time-slices`: the same range
read in widening slices of the sort key's time (`FIRST_SLICE`), for servers that sort every
match before they limit (SecantusDB, the development server), where one range would cost a
read of the whole patch."""


@cache
def detected_paging(client: MongoClient[Any]) -> str:
    """The paging strategy the server at `client` needs: time slices on SecantusDB."""
    build = client.admin.command("buildInfo")
    return "time-slices" if "secantusVersion" in build else "keyset"


SORTS = {
    # sort name: (document field, direction)
    "createdAt": ("createdAt", DESCENDING),
    "updatedAt": ("updatedAt", DESCENDING),
    "dueAt": ("currentState.dueAt", ASCENDING),
}


class ProcessRepository:
    """Process persistence with optimistic concurrency on `version`."""

    def __init__(self, db: Database, paging: str = "auto") -> None:
        """`paging`: one of `PAGING_STRATEGIES`, or "auto" to ask the server (once)."""
        if paging not in (*PAGING_STRATEGIES, "auto"):
            raise ValueError(f"Unknown paging strategy {paging!r}: {PAGING_STRATEGIES}.")
        self._db = db
        self._paging = None if paging == "auto" else paging
        self._processes: Collection = db["processes"]
        # What the store held of each process this repository read and has not written
        # since: the document's size and its current state's (for `check_size`).
        self._sizes: dict[int, tuple[int, int]] = {}
        # The same collection returning undecoded documents, whose sizes `get` keeps.
        self._raw: Collection = self._processes.with_options(
            codec_options=self._processes.codec_options.with_options(
                document_class=RawBSONDocument
            )
        )

    def create_indexes(self) -> None:
        """Create the indexes queries rely on; safe to call at every start."""
        self._processes.create_indexes(INDEXES)
        existing = set(self._processes.index_information())
        for name in RETIRED_INDEXES:
            if name in existing:
                self._processes.drop_index(name)

    def add(self, process: Process) -> None:
        """Store a new process together with its first follow-ups."""
        document = to_document(process)
        document["outbox"] = [_follow_up_document(f) for f in process.follow_ups]
        self._processes.insert_one(document)
        _mark_stored(process)

    def get(self, process_id: str) -> Process:
        raw = self._raw.find_one({"_id": process_id})
        if raw is None:
            raise ProcessNotFound(process_id)
        document = bson_decode(raw.raw, self._processes.codec_options)
        process = from_document(document)
        # The current state's size by encoding it again: cheaper than indexing the raw
        # document, which would decode its every field once more.
        current_size = len(bson_encode(document["currentState"]))
        self._sizes[id(process)] = (len(raw.raw), current_size)
        weakref.finalize(process, self._sizes.pop, id(process), None)
        return process

    def check_size(self, process: Process, budget: int) -> None:
        """Raise `ProcessTooLarge` if saving `process` would make it larger than `budget`
        bytes and larger than it is: a change that does not grow it always fits."""
        size = self.size_after(process)
        stored, _ = self._sizes.get(id(process), (0, 0))
        if size > budget and size > stored:
            raise ProcessTooLarge(process.id, size, budget)

    def size_after(self, process: Process) -> int:
        """The stored document's size once `process` is saved (an estimate within a few
        bytes per array entry), from the sizes read with it and the parts the save writes."""
        sizes = self._sizes.get(id(process))
        if sizes is None:  # not read by this repository, or written since: measure it all
            document = to_document(process)
            document["outbox"] = [
                _follow_up_document(f) for f in [*process.outbox, *process.follow_ups]
            ]
            return len(bson_encode(document))
        new_states = _new_states(process)
        new_activity = _new_activity(process)
        written = [
            _state_document(process.current_state),
            *(_state_document(s) for s in new_states),
            *(_activity_document(a) for a in new_activity),
            *(_follow_up_document(f) for f in process.follow_ups),
        ]
        dropped = [_follow_up_document(f) for f in process.outbox if f.id in process.done]
        stored, current = sizes
        return (
            stored
            - current
            + sum(len(bson_encode(part)) for part in written)
            - sum(len(bson_encode(part)) for part in dropped)
        )

    def save(self, process: Process) -> None:
        """Write the changes made to `process` if nobody changed it since it was read.

        One update: new current state, appended history, new follow-ups, version + 1, and the
        outbox without the follow-ups `process.done` names. Raises `StaleProcess` (and writes
        nothing) when the stored version moved on.
        """
        self._write_changes(process, {"relatedEntities": process.related_entities})

    def _write_changes(
        self, process: Process, fields: dict[str, Any], only_if: dict[str, Any] | None = None
    ) -> None:
        """`save`'s update, also setting `fields` and matching `only_if` besides the version:
        for subclasses whose writes differ from `save` only in these (migrations)."""
        sets = {
            "currentState": _state_document(process.current_state),
            **fields,
            "updatedAt": process.updated_at,
        }
        appends = {
            "previousStates": [_state_document(s) for s in _new_states(process)],
            "activity": [_activity_document(a) for a in _new_activity(process)],
            "outbox": [_follow_up_document(f) for f in process.follow_ups],
        }
        dropped = sorted(process.done & {f.id for f in process.outbox})
        update = _dropping_update(sets, appends, dropped) if dropped else _update(sets, appends)
        unchanged = {"_id": process.id, "version": process.version, **(only_if or {})}
        result = self._processes.update_one(unchanged, update)
        if result.matched_count == 0:
            if self._processes.count_documents({"_id": process.id}, limit=1) == 0:
                raise ProcessNotFound(process.id)
            raise StaleProcess(process.id, process.version)
        process.version += 1
        self._sizes.pop(id(process), None)
        _mark_stored(process)

    def list_by_target(
        self, target_id: str, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Process]:
        """Processes about `target_id`, newest first, starting after the (createdAt, id) given."""
        return self.search(ProcessQuery(target_id=target_id), limit, after)

    def search(
        self, query: ProcessQuery, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Process]:
        """Processes matching `query` in its sort order, starting after the (sort value, id)
        given by the last row of the previous page."""
        field, direction = SORTS[query.sort]
        conditions = mongo_filter(query)
        if after is not None:
            # A range on the sort key (not an $or of two ranges) keeps the query on an index
            # everywhere; the few rows sharing the boundary value are skipped below.
            bound = "$lte" if direction == DESCENDING else "$gte"
            conditions.setdefault(field, {})[bound] = after[0]
        if self._in_slices(query, conditions, field):
            return self._read_in_slices(conditions, field, direction, limit, after)
        return self._read(conditions, field, direction, limit, after)

    @property
    def paging(self) -> str:
        """The paging strategy in use (one of `PAGING_STRATEGIES`)."""
        if self._paging is None:
            self._paging = detected_paging(self._db.client)
        return self._paging

    def _in_slices(self, query: ProcessQuery, conditions: dict[str, Any], field: str) -> bool:
        return self.paging == "time-slices" and _sliced(query, conditions, field)

    def _read_in_slices(
        self,
        conditions: dict[str, Any],
        field: str,
        direction: int,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Process]:
        """`_read` over successive time slices of the sort key (see `FIRST_SLICE`)."""
        anchor = after[0] if after is not None else datetime.now(UTC)
        found: list[Process] = []
        width, near = FIRST_SLICE, None
        while True:
            sliced, far = _slice(conditions, field, direction, anchor, width, near)
            found += self._read(sliced, field, direction, limit - len(found), after)
            if far is None or len(found) >= limit:
                return found
            width, near = width * SLICE_GROWTH, far

    def _read(
        self,
        conditions: dict[str, Any],
        field: str,
        direction: int,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Process]:
        """Up to `limit` processes matching `conditions` in sort order, minus those on the
        boundary value of `after` the previous page already had."""
        cursor = (
            self._processes.find(conditions, {"outbox": 0})
            .sort([(field, direction), ("_id", direction)])
            .batch_size(limit + 8)
        )
        found: list[Process] = []
        with cursor:
            for document in cursor:
                if after is not None and _sort_value(document, field) == after[0]:
                    seen = (
                        document["_id"] >= after[1]
                        if direction == DESCENDING
                        else (document["_id"] <= after[1])
                    )
                    if seen:
                        continue
                found.append(from_document(document))
                if len(found) == limit:
                    break
        return found

    def explain(self, query: ProcessQuery) -> dict[str, Any]:
        """The server's query plan for `query`'s first page (to check that indexes serve it)."""
        field, direction = SORTS[query.sort]
        conditions = mongo_filter(query)
        if self._in_slices(query, conditions, field):
            conditions, _ = _slice(conditions, field, direction, datetime.now(UTC), FIRST_SLICE)
        cursor = self._processes.find(conditions).sort([(field, direction), ("_id", direction)])
        plan: dict[str, Any] = cursor.explain()
        return plan

    def remove_follow_ups(self, process_id: str, follow_up_ids: Iterable[str]) -> None:
        """Drop follow-ups from the outbox once they have been handed on."""
        ids = list(follow_up_ids)
        if ids:
            self._processes.update_one(
                {"_id": process_id}, {"$pull": {"outbox": {"id": {"$in": ids}}}}
            )

    def forget_follow_ups(self, done: Mapping[str, Iterable[str]]) -> None:
        """`remove_follow_ups` for many processes (process id: follow-up ids), one round trip."""
        pulls = {process_id: list(ids) for process_id, ids in done.items()}
        updates = [
            UpdateOne({"_id": process_id}, {"$pull": {"outbox": {"id": {"$in": ids}}}})
            for process_id, ids in pulls.items()
            if ids
        ]
        if updates:
            self._processes.bulk_write(updates, ordered=False)

    def stale_follow_ups(
        self, created_before: datetime, now: datetime, limit: int = 500
    ) -> Iterator[tuple[str, list[FollowUp]]]:
        """Processes with follow-ups left in their outbox since before `created_before`, each
        with those follow-ups (at most `limit` processes).

        Events come as they are: handing one on again is harmless (the stream holds each event
        once). Steps come claimed for this caller, by moving their time on, so that a concurrent
        sweep skips them; each claim doubles the wait before the next (grace, 2 x grace,
        4 x grace... at most 64 x grace), so a backlog slow to drain is not flooded with copies.
        """
        grace = now - created_before
        cursor = self._processes.find(
            {"outbox.createdAt": {"$lt": created_before}}, {"outbox": 1}
        ).limit(limit)
        for document in cursor:
            stale = []
            for item in document.get("outbox", []):
                if item["createdAt"] >= created_before:
                    continue
                if item["kind"] == "task" and not self._claim(document["_id"], item, now, grace):
                    continue  # another sweep took it
                stale.append(_follow_up_from(item))
            if stale:
                yield document["_id"], stale

    def _claim(
        self, process_id: str, item: dict[str, Any], now: datetime, grace: timedelta
    ) -> bool:
        """Move the outbox entry `item` on to its next sweep; False if it changed meanwhile."""
        claims = min(int(item.get("claims", 0)), 5)
        claimed = self._processes.update_one(
            {
                "_id": process_id,
                "outbox": {"$elemMatch": {"id": item["id"], "createdAt": item["createdAt"]}},
            },
            {
                "$set": {"outbox.$.createdAt": now + grace * (2 ** (claims + 1) - 1)},
                "$inc": {"outbox.$.claims": 1},
            },
        )
        return bool(claimed.modified_count)

    def overdue_ids(self, now: datetime, limit: int = 500) -> list[str]:
        """Processes whose current state was due before `now` and is not yet marked overdue."""
        cursor = self._processes.find(
            {"currentState.dueAt": {"$lte": now}, "currentState.overdue": {"$ne": True}},
            {"_id": 1},
        ).limit(limit)
        return [document["_id"] for document in cursor]

    def reminder_ids(self, now: datetime, limit: int = 500) -> list[str]:
        """Processes whose appointment reminder is due at `now` and not yet sent."""
        cursor = self._processes.find(
            {"currentState.reminderAt": {"$lte": now}, "currentState.reminded": {"$ne": True}},
            {"_id": 1},
        ).limit(limit)
        return [document["_id"] for document in cursor]

    def waiting_automation(self, queued_before: datetime, limit: int = 500) -> list[Process]:
        """Processes whose current state's automated step was queued before `queued_before`
        and has not finished (nor failed), oldest first, with their outboxes."""
        cursor = (
            self._processes.find(
                {
                    "currentState.automation.status": "queued",
                    "currentState.automation.queuedAt": {"$lt": queued_before},
                }
            )
            .sort("currentState.automation.queuedAt", ASCENDING)
            .limit(limit)
        )
        return [from_document(document) for document in cursor]

    def pending_follow_ups(self, created_before: datetime) -> Iterator[tuple[str, FollowUp]]:
        """Follow-ups still in an outbox that were written before `created_before`."""
        cursor = self._processes.find({"outbox.createdAt": {"$lt": created_before}}, {"outbox": 1})
        for document in cursor:
            for item in document.get("outbox", []):
                if item["createdAt"] < created_before:
                    yield document["_id"], _follow_up_from(item)


def _new_states(process: Process) -> list[StateEntry]:
    """The states entered since the process was read: those a save appends."""
    return process.previous_states[len(process.previous_states) - process.new_states :]


def _new_activity(process: Process) -> list[Activity]:
    return process.activity[len(process.activity) - process.new_activity :]


def _mark_stored(process: Process) -> None:
    """`process` now matches what the store holds."""
    process.outbox = [f for f in process.outbox if f.id not in process.done] + process.follow_ups
    process.done = set()
    process.new_states = process.new_activity = 0


def _update(sets: dict[str, Any], appends: dict[str, list[Any]]) -> dict[str, Any]:
    """The update that sets `sets`, appends `appends` and counts a version."""
    update: dict[str, Any] = {"$set": sets, "$inc": {"version": 1}}
    pushes = {name: {"$each": items} for name, items in appends.items() if items}
    if pushes:
        update["$push"] = pushes
    return update


def _dropping_update(
    sets: dict[str, Any], appends: dict[str, list[Any]], dropped: list[str]
) -> list[dict[str, Any]]:
    """`_update` that also takes the `dropped` follow-ups out of the outbox, in one write.

    An update document cannot both pull from and push to one array, so this one is a pipeline;
    every value is a `$literal`, so that form data is never read as an expression."""
    stage: dict[str, Any] = {name: {"$literal": value} for name, value in sets.items()}
    stage["version"] = {"$add": ["$version", 1]}
    for name, items in appends.items():
        kept: Any = {"$ifNull": [f"${name}", []]}
        if name == "outbox":
            kept = {
                "$filter": {"input": kept, "cond": {"$not": [{"$in": ["$$this.id", dropped]}]}}
            }
        elif not items:
            continue
        stage[name] = {"$concatArrays": [kept, {"$literal": items}]}
    return [{"$set": stage}]


def mongo_filter(wanted: ProcessQuery) -> dict[str, Any]:
    """The MongoDB filter that selects what `wanted` asks for."""
    query: dict[str, Any] = {}
    if wanted.target_id is not None:
        query["targetId"] = wanted.target_id
    if wanted.process_name is not None:
        query["processName"] = wanted.process_name
    if wanted.state is not None:
        query["currentState.state"] = wanted.state
    if wanted.officer_id is not None:
        query["currentState.assignment.officerId"] = wanted.officer_id
    if wanted.overdue is not None:
        query["currentState.overdue"] = True if wanted.overdue else {"$ne": True}
    if wanted.automation_status is not None:
        query["currentState.automation.status"] = wanted.automation_status
    if wanted.patch is not None:
        query["currentState.assignment.patch"] = wanted.patch
    elif wanted.within_patches is not None:
        query["currentState.assignment.patch"] = {"$in": [*sorted(wanted.within_patches), None]}
    if wanted.sort == "dueAt":
        # Only cases with a deadline; a range (not `$ne: null`) lets an index serve it.
        query.setdefault("currentState.dueAt", {})["$gte"] = EPOCH
    return query


def _sliced(query: ProcessQuery, conditions: dict[str, Any], field: str) -> bool:
    """Whether a page of `query` is read in time slices: not a target's listing (a handful
    of rows, one query), and only where an index serves `conditions` narrowed to a range of
    `field` (every other condition an equality on fields an index has just before `field`)."""
    if query.target_id is not None:
        return False
    others = {name: value for name, value in conditions.items() if name != field}
    if any(isinstance(value, dict) for value in others.values()):
        return False
    return (frozenset(others), field) in SLICEABLE


def _slice(
    conditions: dict[str, Any],
    field: str,
    direction: int,
    anchor: datetime,
    width: timedelta,
    near: datetime | None = None,
) -> tuple[dict[str, Any], datetime | None]:
    """`conditions` narrowed to the slice of `field` from `near` (the previous slice's far
    edge; None for the first slice, which is open towards the anchor) to `anchor` +/- `width`,
    and that far edge (None when the slice is the last, open-ended one)."""
    descending = direction == DESCENDING
    bounds = dict(conditions.get(field, {}))
    if near is not None:
        bounds.pop("$lte", None)
        bounds["$lt" if descending else "$gte"] = near
    far: datetime | None = None
    if width <= LONGEST_SLICE:
        far = anchor - width if descending else anchor + width
        bounds["$gte" if descending else "$lt"] = far
    return {**conditions, field: bounds}, far


def _sort_value(document: dict[str, Any], field: str) -> Any:
    value: Any = document
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def to_document(process: Process) -> dict[str, Any]:
    return {
        "_id": process.id,
        "processName": process.process_name,
        "targetId": process.target_id,
        "targetType": process.target_type,
        "relatedEntities": process.related_entities,
        "definitionVersion": process.definition_version,
        "version": process.version,
        "createdAt": process.created_at,
        "updatedAt": process.updated_at,
        "createdBy": process.created_by,
        "currentState": _state_document(process.current_state),
        "previousStates": [_state_document(s) for s in process.previous_states],
        "activity": [_activity_document(a) for a in process.activity],
    }


def from_document(document: dict[str, Any]) -> Process:
    previous = [_state_from(s) for s in document.get("previousStates", [])]
    activity = [_activity_from(a) for a in document.get("activity", [])]
    return Process(
        id=document["_id"],
        process_name=document["processName"],
        target_id=document["targetId"],
        target_type=document["targetType"],
        related_entities=document.get("relatedEntities", []),
        current_state=_state_from(document["currentState"]),
        previous_states=previous,
        definition_version=document.get("definitionVersion", 1),
        created_at=document["createdAt"],
        updated_at=document["updatedAt"],
        created_by=document.get("createdBy"),
        version=document["version"],
        activity=activity,
        outbox=[_follow_up_from(f) for f in document.get("outbox", [])],
    )


def _state_document(entry: StateEntry) -> dict[str, Any]:
    return {
        "state": entry.state,
        "permittedTriggers": entry.permitted_triggers,
        "assignment": entry.assignment,
        "processData": {"formData": entry.form_data, "documents": entry.documents},
        "trigger": entry.trigger,
        "actedBy": entry.acted_by,
        "createdAt": entry.created_at,
        "updatedAt": entry.updated_at,
        "dueAt": entry.due_at,
        "reminderAt": entry.reminder_at,
        "reminded": entry.reminded,
        "automation": entry.automation,
        "overdue": entry.overdue,
    }


def _state_from(document: dict[str, Any]) -> StateEntry:
    data = document.get("processData") or {}
    return StateEntry(
        state=document["state"],
        permitted_triggers=document.get("permittedTriggers", []),
        assignment=document.get("assignment") or {},
        form_data=data.get("formData") or {},
        documents=data.get("documents") or [],
        trigger=document.get("trigger"),
        acted_by=document.get("actedBy"),
        created_at=document["createdAt"],
        updated_at=document["updatedAt"],
        due_at=document.get("dueAt"),
        reminder_at=document.get("reminderAt"),
        reminded=document.get("reminded", False),
        automation=document.get("automation"),
        overdue=document.get("overdue", False),
    )


def _activity_document(activity: Activity) -> dict[str, Any]:
    return {
        "kind": activity.kind,
        "state": activity.state,
        "actedBy": activity.acted_by,
        "at": activity.at,
        "details": activity.details,
    }


def _activity_from(document: dict[str, Any]) -> Activity:
    return Activity(
        kind=document["kind"],
        state=document["state"],
        acted_by=document.get("actedBy"),
        at=document["at"],
        details=document.get("details") or {},
    )


def _follow_up_document(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "id": follow_up.id,
        "kind": follow_up.kind,
        "name": follow_up.name,
        "payload": follow_up.payload,
        "createdAt": follow_up.created_at,
    }


def _follow_up_from(document: dict[str, Any]) -> FollowUp:
    return FollowUp(
        kind=document["kind"],
        name=document["name"],
        payload=document["payload"],
        created_at=document["createdAt"],
        id=document["id"],
    )
