"""Flask CLI commands: `flask --app api seed-demo` and `flask --app api definitions`."""

from __future__ import annotations

import json

import click
from flask import current_app

import machines
from storage.local_services import seed_demo
from storage.mongo import database



def register(app) -> None:  # type: ignore[no-untyped-def]
    """Add the commands to `app`'s CLI, at the top level."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(definitions_command)


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
