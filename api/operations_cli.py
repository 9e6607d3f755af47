"""Operators' commands, run as `flask --app api automation ...`: the cases whose automated
step failed, and retrying them in bulk (a dry run unless --apply)."""

from __future__ import annotations

import getpass

import click
from flask import current_app
from flask.cli import AppGroup

from services import operations
from services.context import Context
from storage import repository
from storage.mongo import database
from storage.operations import OperationsQueries


def register(app) -> None:  # type: ignore[no-untyped-def]
    """Add the `automation` commands to `app`'s CLI."""
    app.cli.add_command(automation_group)


@click.group("automation", cls=AppGroup)
def automation_group() -> None:
    """Cases whose automated step failed: list them, retry them."""


@automation_group.command("failed")
@click.option("--process", "process_name", help="Only cases of this process (e.g. soletojoint).")
@click.option("--limit", default=500, show_default=True, help="At most this many cases.")
def failed_command(process_name: str | None, limit: int) -> None:
    """List the cases whose automated step failed, longest waiting first, with the reason."""
    cases = _queries().failed_steps(process_name, limit)
    for case in cases:
        failed_at = case["failedAt"].isoformat() if case.get("failedAt") else "-"
        click.echo(
            f"{case['processName']:<14} {case['id']}  {case['state']:<28} {case['step']}"
            f"  failed {failed_at}: {case['reason']}"
        )
    click.echo(f"{len(cases)} case(s) with a failed step.")


@automation_group.command("retry-failed")
@click.option("--process", "process_name", help="Only cases of this process.")
@click.option("--limit", default=100, show_default=True, help="At most this many cases.")
@click.option(
    "--dry-run/--apply",
    default=True,
    show_default=True,
    help="Show which steps would be queued again (default), or queue them.",
)
def retry_failed_command(process_name: str | None, limit: int, dry_run: bool) -> None:
    """Queue the failed steps again, as POST .../automation/retry does for one case."""
    settings = current_app.extensions["settings"]
    actor = {"id": f"cli:{getpass.getuser()}", "name": "Bulk automation retry"}
    results = operations.retry_failed(
        _queries(),
        repository(settings),
        Context(actor=actor),
        current_app.extensions["dispatch"],
        process_name=process_name,
        limit=limit,
        apply=not dry_run,
    )
    verb = "would queue again" if dry_run else "queued again"
    for result in results:
        outcome = f"not retried: {result.error}" if result.error else verb
        click.echo(f"{result.process_name:<14} {result.process_id}  {result.state:<28} {outcome}")
    retried = sum(1 for result in results if result.error is None)
    click.echo(f"{retried} step(s) {verb}; {len(results) - retried} not retried.")
    if dry_run and results:
        click.echo("Nothing was queued. Run again with --apply to retry them.")
    if any(result.error for result in results):
        raise SystemExit(1)


def _queries() -> OperationsQueries:
    settings = current_app.extensions["settings"]
    return OperationsQueries(database(settings.mongo_uri, settings.mongo_db))
