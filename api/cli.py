"""Flask CLI commands, run as `flask --app api <command>`: demo data, tokens, process
definitions (`definitions`, `definition show|draw|validate`) and `migrate`."""

from __future__ import annotations

import getpass
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

import machines
from api.auth import mint
from machines import describe
from machines.definition import ProcessDefinition
from services import definitions as definition_use_cases
from services.context import Context
from services.errors import ServiceError
from services.processes import definition_named
from storage import is_available
from storage.local_services import seed_demo
from storage.migrations import MigrationRepository
from storage.mongo import database


def register(app) -> None:  # type: ignore[no-untyped-def]
    """Add the commands to `app`'s CLI, at the top level."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(definitions_command)
    app.cli.add_command(mint_token_command)
    app.cli.add_command(definition_group)
    app.cli.add_command(migrate_command)


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Write demo tenures and persons to the local records, for a case with no outside service."""
    settings = current_app.extensions["settings"]
    ids = seed_demo(database(settings.mongo_uri, settings.mongo_db))
    click.echo(json.dumps(ids, indent=2))


@click.command("definitions")
def definitions_command() -> None:
    """List the process definitions: name, target, version, states and client triggers."""
    for definition in machines.registry().values():
        click.echo(
            f"{definition.name:<14} {definition.title:<24} target={definition.target_type:<7}"
            f" v{definition.version}  {len(definition.states)} states,"
            f" {len(definition.client_triggers)} client triggers"
        )


@click.command("mint-token")
@click.option("--sub", default="dev-officer", show_default=True, help="The user's id.")
@click.option("--name", default="Dev Officer", show_default=True)
@click.option("--email", default="dev.officer@example.org", show_default=True)
@click.option(
    "--group",
    "groups",
    multiple=True,
    default=["processes-admin"],
    show_default=True,
    help="A group to put in the token; repeat for several (e.g. --group patch:E1).",
)
@click.option("--hours", default=12, show_default=True, help="How long the token lasts.")
def mint_token_command(
    sub: str, name: str, email: str, groups: tuple[str, ...], hours: int
) -> None:
    """Print a development token signed with JWT_SECRET (HS256), in development mode only."""
    settings = current_app.extensions["settings"]
    if not settings.development_mode:
        raise click.ClickException(
            "mint-token only mints in development mode (DEVELOPMENT_MODE=1, as make run and "
            "make test set), with JWT_SECRET or the development key. A deployment's tokens "
            "come from its identity provider."
        )
    if settings.jwt_public_key or settings.jwks_url:
        raise click.ClickException(
            "The API verifies RS256 tokens (JWT_PUBLIC_KEY or JWKS_URL is set), so it would "
            "refuse the HS256 token mint-token signs. Unset them to use development tokens."
        )
    click.echo(mint(settings, sub, name, email, list(groups), timedelta(hours=hours)))


@click.group("definition", cls=AppGroup)
def definition_group() -> None:
    """Show, draw and validate process definitions."""


@definition_group.command("show")
@click.argument("name")
def show_definition(name: str) -> None:
    """Print a definition's states and triggers as tables."""
    description = describe.describe(_definition(name))
    click.echo(
        f"{description['name']} v{description['version']}: {description['title']}"
        f" (target {description['targetType']})"
    )
    click.echo()
    rows = [
        (
            state["name"],
            ", ".join(flag for flag in ("initial", "first", "final") if state[flag]),
            state["automatedStep"] or "",
            f"{state['timeLimitDays']} days" if state["timeLimitDays"] else "",
            state["onOverdue"] or "",
        )
        for state in description["states"]
    ]
    _table(("STATE", "", "AUTOMATED STEP", "TIME LIMIT", "WHEN OVERDUE"), rows)
    click.echo()
    transitions: list[tuple[str, ...]] = []
    for trigger in description["triggers"]:
        form = trigger["formData"] or {}
        for source in trigger["sources"]:
            for branch in trigger["branches"]:
                checks = [r["check"] for r in trigger["requires"]] + (
                    [branch["condition"]] if branch["condition"] else []
                )
                transitions.append(
                    (
                        trigger["name"],
                        trigger["kind"],
                        source,
                        branch["target"],
                        ", ".join(checks),
                        ", ".join(form.get("required", [])),
                    )
                )
    _table(("TRIGGER", "SENT BY", "FROM", "TO", "GUARDS", "REQUIRED FORM FIELDS"), transitions)
    click.echo()
    click.echo("What each trigger does, and what its form asks:")
    for trigger in description["triggers"]:
        if not trigger["client"]:
            continue
        click.echo(f"  {trigger['name']}: {trigger['description']}")
        properties = (trigger["formData"] or {}).get("properties", {})
        for field_name, schema in properties.items():
            words = schema.get("title") or schema.get("description") or ""
            click.echo(f"    {field_name}: {words}")


@definition_group.command("draw")
@click.argument("name")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["mermaid", "svg", "png", "dot"]),
    default="mermaid",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
    help="The file to write; - for standard output (text only).",
)
def draw_definition(name: str, format_: str, output: str) -> None:
    """Draw a definition as Mermaid or DOT text, or as an SVG or PNG image (needs Graphviz)."""
    try:
        drawn = definition_use_cases.diagram(_definition(name), format_)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    if output == "-":
        if not drawn.media_type.startswith("text/"):
            raise click.UsageError(f"Write {format_} to a file with --output.")
        click.echo(drawn.content.decode(), nl=False)
        return
    Path(output).write_bytes(drawn.content)
    click.echo(f"Wrote {output} ({len(drawn.content)} bytes).", err=True)


@definition_group.command("validate")
@click.option(
    "--skip-store",
    is_flag=True,
    help="Check the definitions only, not the processes stored in MongoDB.",
)
def validate_definitions(skip_store: bool) -> None:
    """Check every definition, and what it would strand among stored processes; exit 1 on any
    problem."""
    settings = current_app.extensions["settings"]
    uses = None
    if skip_store:
        note = "Stored processes: not checked (--skip-store)."
    elif not is_available(settings):
        note = f"Stored processes: not checked, MongoDB is not reachable at {settings.mongo_uri}."
    else:
        uses = _migrations_repository().stored_uses()
        total = sum(use.count for use in uses)
        note = (
            f"Stored processes: checked {total} in database {settings.mongo_db!r} for states "
            f"and triggers the definitions no longer have."
        )
    found = definition_use_cases.check_definitions(uses=uses)
    registry = machines.registry()
    for name, problems in found.items():
        version = f" v{registry[name].version}" if name in registry else ""
        click.echo(f"{name}{version}: " + (f"{len(problems)} problem(s)" if problems else "ok"))
        for problem in problems:
            click.echo(f"  [{problem.code}] {problem.message}")
    click.echo(note)
    count = sum(len(problems) for problems in found.values())
    if count:
        click.echo(f"{count} problem(s) found.", err=True)
        raise SystemExit(1)


@click.command("migrate")
@with_appcontext
@click.argument("name")
@click.option(
    "--from-version",
    type=int,
    required=True,
    help="Migrate the stored processes started under this version.",
)
@click.option(
    "--dry-run/--apply",
    default=True,
    show_default=True,
    help="Show what would change (default), or write it.",
)
def migrate_command(name: str, from_version: int, dry_run: bool) -> None:
    """Move stored processes of NAME from an old definition version to the current one."""
    definition = _definition(name)
    repo = _migrations_repository()
    actor = {"id": f"cli:{getpass.getuser()}", "name": "Definition migration"}

    def progress(ids: list[str]) -> AbstractContextManager[Iterable[str]]:
        verb = "Checking" if dry_run else "Migrating"
        return click.progressbar(ids, label=f"{verb} {len(ids)} process(es)", file=sys.stderr)

    try:
        results = definition_use_cases.migrate(
            repo,
            name,
            from_version,
            Context(actor=actor),
            current_app.extensions["dispatch"],
            apply=not dry_run,
            progress=progress,
        )
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    skipped = [r for r in results if r.skipped]
    moves = Counter((r.from_state, r.to_state) for r in results if not r.skipped)
    done = "would move" if dry_run else "moved"
    click.echo(
        f"{name}: {len(results) - len(skipped)} process(es) {done} from version "
        f"{from_version} to {definition.version}."
    )
    for (old, new), count in sorted(moves.items()):
        click.echo(f"  {old} -> {new}: {count}" if old != new else f"  {old} (unchanged): {count}")
    for result in skipped:
        click.echo(f"  skipped {result.process_id} in {result.from_state}: {result.skipped}")
    if dry_run and results:
        click.echo("Nothing was written. Run again with --apply to migrate.")
    if any(result.failed for result in results):
        raise SystemExit(1)


def _definition(name: str) -> ProcessDefinition:
    try:
        return definition_named(name)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None


def _migrations_repository() -> MigrationRepository:
    settings = current_app.extensions["settings"]
    return MigrationRepository(database(settings.mongo_uri, settings.mongo_db))


def _table(header: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
