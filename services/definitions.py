"""Use cases on process definitions: describe and draw them, check them, migrate stored processes.

Drawing SVG or PNG needs Graphviz's `dot` program; everything else is pure Python. A
migration moves the stored processes of one definition version to the current version with
the definition module's `migrations`, recording a `Migrated` activity on each.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Protocol

import machines
from machines import describe
from machines.definition import ProcessDefinition
from machines.errors import ProcessNotFound, StaleProcess
from machines.model import Process
from machines.ports import Dispatch, Repository
from machines.steps import registered
from machines.validate import (
    Migration,
    Problem,
    StoredUse,
    declared_migrations,
    migrate_state,
    problems,
    stranded,
)
from services.commit import commit
from services.context import Context
from services.errors import FieldError, InvalidInput, ServiceError
from services.forms import format_checker
from services.processes import definition_named
from services.transitions import queue_automated_step

log = logging.getLogger(__name__)

TEXT_FORMATS = {"mermaid": "text/plain; charset=utf-8", "dot": "text/vnd.graphviz; charset=utf-8"}
IMAGE_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
RENDER_TIMEOUT_SECONDS = 30
MIGRATION_ATTEMPTS = 5


class GraphvizMissing(ServiceError):
    """Drawing an image needs Graphviz's `dot` program, which is not installed here."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz is not installed on this server, so diagrams cannot be drawn as images. Ask "
            "for format=mermaid instead, or install Graphviz (Debian: apt-get install graphviz)."
        )


class DrawingFailed(ServiceError):
    """Graphviz ran but did not produce the image."""


class InvalidMigration(ServiceError):
    """The migration asked for cannot be run (no such version, nothing to migrate to)."""


class MigrationRepository(Repository, Protocol):
    def ids_at_version(self, process_name: str, definition_version: int) -> list[str]: ...
    def save_migrated(self, process: Process, from_version: int) -> None: ...


@dataclass(frozen=True)
class Diagram:
    """A drawn diagram and its media type."""

    content: bytes
    media_type: str


def diagram(
    definition: ProcessDefinition,
    format: str,
    current: str | None = None,
    visited: Iterable[str] = (),
) -> Diagram:
    """Draw `definition` as Mermaid, DOT, SVG or PNG; `current` and `visited` mark a live path."""
    if format == "mermaid":
        text = describe.mermaid(definition, current, visited)
        return Diagram(text.encode(), TEXT_FORMATS[format])
    dot_text = describe.dot(definition, current, visited)
    if format == "dot":
        return Diagram(dot_text.encode(), TEXT_FORMATS[format])
    if format in IMAGE_FORMATS:
        return Diagram(render(dot_text, format), IMAGE_FORMATS[format])
    known = ", ".join([*TEXT_FORMATS, *IMAGE_FORMATS])
    raise InvalidInput(
        f"There is no diagram format {format!r}.",
        [FieldError("format", f"Must be one of: {known}.")],
        unprocessable=False,
    )


def process_diagram(process: Process, format: str) -> Diagram:
    """Draw the definition of a stored process with its current state and its path marked."""
    definition = definition_named(process.process_name)
    visited = [entry.state for entry in process.states]
    return diagram(definition, format, current=process.state, visited=visited)


def graphviz() -> str | None:
    """The path of Graphviz's `dot`, or None when it is not installed."""
    return shutil.which("dot")


def render(dot_text: str, format: str) -> bytes:
    """Run Graphviz's `dot` on `dot_text` and return the image (no shell is involved)."""
    program = graphviz()
    if program is None:
        raise GraphvizMissing()
    try:
        completed = subprocess.run(  # noqa: S603 - a fixed program, arguments from a fixed set
            [program, f"-T{format}"],
            input=dot_text.encode(),
            capture_output=True,
            timeout=RENDER_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DrawingFailed(f"Graphviz could not draw the diagram: {error}") from error
    if completed.returncode != 0 or not completed.stdout:
        message = completed.stderr.decode(errors="replace").strip()
        raise DrawingFailed(f"Graphviz could not draw the diagram: {message}")
    return completed.stdout


def check_definitions(
    definitions: Mapping[str, ProcessDefinition] | None = None,
    uses: list[StoredUse] | None = None,
) -> dict[str, list[Problem]]:
    """Problems of every definition, by name; with `uses` (what the store holds), also what
    each definition would strand, and stored processes whose definition is gone."""
    definitions = machines.registry() if definitions is None else definitions
    found: dict[str, list[Problem]] = {}
    for name, definition in definitions.items():
        migrations = declared_migrations(definition)
        found[name] = problems(
            definition, registered(), format_checker=format_checker, migrations=migrations
        )
        if uses is not None:
            found[name] += stranded(definition, uses, migrations)
    for use in uses or []:
        if use.process_name not in definitions:
            found.setdefault(use.process_name, []).append(
                Problem(
                    use.process_name,
                    "removed-definition",
                    use.state,
                    f"{use.count} stored process(es) at version {use.definition_version} "
                    f"in {use.state} belong to a process type that no longer exists.",
                )
            )
    return found


@dataclass(frozen=True)
class Migrated:
    """What a migration did (or, in a dry run, would do) to one process."""

    process_id: str
    from_state: str
    to_state: str
    from_version: int
    to_version: int
    applied: bool
    skipped: str | None = None
    """Why the process was left as it was, when it was."""
    failed: bool = False
    """Whether it was left because it could not be migrated (not because it already was)."""


Progress = Callable[[list[str]], AbstractContextManager[Iterable[str]]]
"""Wraps the ids a migration walks through, e.g. in a progress bar."""


def migrate(
    repo: MigrationRepository,
    process_name: str,
    from_version: int,
    ctx: Context,
    dispatch: Dispatch,
    *,
    apply: bool,
    migrations: Mapping[int, Migration] | None = None,
    progress: Progress | None = None,
) -> list[Migrated]:
    """Move the stored processes of `process_name` at `from_version` to the current version.

    Each state is mapped through the migrations from `from_version` on (a version without
    one keeps its states). Without `apply` nothing is written: the result says what would
    change. A process whose state would map to one the definition lacks is left alone.
    """
    definition = definition_named(process_name)
    if not 1 <= from_version < definition.version:
        earlier = (
            "there is no earlier version to migrate from yet"
            if definition.version == 1
            else f"migrate from an earlier one (1 to {definition.version - 1})"
        )
        raise InvalidMigration(
            f"{process_name} is at version {definition.version}, so its stored processes are "
            f"already current: {earlier}. Raise its `version` (and declare `migrations`) "
            "first; docs/adding-a-process.md says how."
        )
    if migrations is None:
        migrations = declared_migrations(definition)
    ids = repo.ids_at_version(process_name, from_version)
    results = []
    with progress(ids) if progress else nullcontext(ids) as walked:
        for process_id in walked:
            results.append(
                migrate_one(
                    repo,
                    definition,
                    migrations,
                    from_version,
                    process_id,
                    ctx,
                    dispatch,
                    apply=apply,
                )
            )
    return results


def migrate_one(
    repo: MigrationRepository,
    definition: ProcessDefinition,
    migrations: Mapping[int, Migration],
    from_version: int,
    process_id: str,
    ctx: Context,
    dispatch: Dispatch,
    *,
    apply: bool,
) -> Migrated:
    """Migrate one stored process, retrying when someone changes it meanwhile."""
    to_version = definition.version
    for _ in range(MIGRATION_ATTEMPTS):
        try:
            process = repo.get(process_id)
        except ProcessNotFound:
            return Migrated(process_id, "", "", from_version, to_version, False, "deleted")
        failed = True
        old = new = process.state
        skipped: str | None = None
        if process.definition_version != from_version:
            skipped, failed = f"already at version {process.definition_version}", False
        else:
            try:
                new = migrate_state(migrations, from_version, to_version, old)
            except Exception as error:  # noqa: BLE001 - a faulty migration skips this process
                skipped = f"the migration failed: {error!r}"
            else:
                if new not in definition.states:
                    skipped = f"{new} is not a state of version {to_version}"
        if skipped or not apply:
            return Migrated(
                process_id,
                old,
                new,
                from_version,
                to_version,
                False,
                skipped,
                failed=bool(skipped) and failed,
            )
        moved_to(definition, process, new, from_version, ctx)
        try:
            commit(repo, process, dispatch, partial(repo.save_migrated, from_version=from_version))
        except StaleProcess:
            continue
        return Migrated(process_id, old, new, from_version, to_version, True)
    return Migrated(
        process_id,
        "",
        "",
        from_version,
        to_version,
        False,
        "it kept changing while it was migrated; run the migration again",
        failed=True,
    )


def moved_to(
    definition: ProcessDefinition, process: Process, state: str, from_version: int, ctx: Context
) -> None:
    """Put `process` in `state` of the current definition, as the migration decided.

    The current state keeps its data and start time; what depends on the definition (the
    triggers it offers, its time limit, its automated step) is taken from the new version.
    The process's earlier states are history and keep the names they had.
    """
    moment = ctx.clock()
    entry = process.current_state
    old = entry.state
    entry.state = state
    entry.permitted_triggers = definition.permitted_triggers(state)
    days = definition.time_limits_days.get(state)
    entry.due_at = entry.created_at + timedelta(days=days) if days else None
    entry.overdue = entry.overdue and entry.due_at is not None
    entry.automation = None
    entry.updated_at = moment
    process.updated_at = moment
    process.definition_version = definition.version
    # A step queued before the migration is stale once the process's version moves on, so a
    # state with an automated step gets it queued again.
    queue_automated_step(definition, process, version_after_save=process.version + 1, ctx=ctx)
    process.record(
        "Migrated",
        ctx.actor,
        moment,
        fromVersion=from_version,
        toVersion=definition.version,
        fromState=old,
        toState=state,
    )
