"""The HTTP API: an apiflask application assembled from its blueprints."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

import click
from apiflask import APIFlask
from flask import Response, g
from flask.cli import ScriptInfo

import settings as settings_module
from api import (
    auth,
    bodies,
    cli,
    docs,
    errors,
    headers,
    health,
    metrics,
    openapi,
    operations_cli,
    problems,
    processes,
    telemetry,
)
from machines.ports import Dispatch
from machines.steps import registered
from machines.validate import check_registry
from services.authorisation import Policy
from services.forms import format_checker
from services.paging import PageTokens
from storage import ProcessRepository, repository

log = logging.getLogger(__name__)

CORRELATION_HEADER = "x-correlation-id"


def create_app(
    config: Mapping[str, Any] | None = None, *, dispatch: Dispatch | None = None
) -> APIFlask:
    """Build the API. `config` overrides settings from the environment (tests use it)."""
    check_registry(
        registered(), format_checker=format_checker
    )  # refuse to serve a broken definition
    app = APIFlask(
        __name__,
        title="Processes API",
        version="1.0.0",
        spec_path="/api/v1/openapi.json",
        docs_path="/api/docs",
        static_folder=docs.FOLDER,  # the documentation's assets are the only static files
        static_url_path=docs.ASSETS_PATH,
    )
    app.config.update(
        **docs.CONFIG,
        VALIDATION_ERROR_STATUS_CODE=400,
        VALIDATION_ERROR_SCHEMA=problems.SCHEMA,
        HTTP_ERROR_SCHEMA=problems.SCHEMA,
        MAX_CONTENT_LENGTH=1024 * 1024,
        SYNC_LOCAL_SPEC=False,
        SECURITY_SCHEMES={
            "BearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        },
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    overrides = dict(config or {})
    app.config.update(overrides)
    settings = settings_module.from_env()
    if "MONGO_DB" in overrides:
        settings = replace(settings, mongo_db=overrides["MONGO_DB"])
    if "MONGO_URI" in overrides:
        settings = replace(settings, mongo_uri=overrides["MONGO_URI"])
    if not _built_for_a_command():
        settings_module.require_keys(settings, "api")
    app.extensions["settings"] = settings
    app.extensions["policy"] = overrides.get("AUTH_POLICY") or Policy.from_file(
        settings.auth_policy_file
    )
    verifier = auth.TokenVerifier(settings)

    @cache
    def repository_of(pid: int) -> ProcessRepository:
        # Per OS process, as its MongoDB client is (storage/mongo.py): an app built before a
        # fork (gunicorn --preload) gets a repository of its own in each worker.
        repo = repository(settings)
        repo.create_indexes()  # idempotent; once per process
        return repo

    def process_repository() -> ProcessRepository:
        """One repository for the app's requests, made (and its indexes ensured) on first use."""
        return repository_of(os.getpid())

    app.extensions["repository"] = process_repository
    if dispatch is None:
        from workers.dispatch import dispatch as queue_dispatch

        dispatch = queue_dispatch
    app.extensions["dispatch"] = dispatch
    app.extensions["page_tokens"] = PageTokens(settings.secret_key)

    errors.register(app)
    headers.register(app, settings)
    app.register_blueprint(processes.bp)
    app.register_blueprint(health.bp)
    from api import definitions  # process definitions: JSON, Mermaid, SVG

    app.register_blueprint(definitions.bp)
    from api import documents  # the uploads blueprint, with its own error handlers

    app.register_blueprint(documents.bp)
    app.spec_processor(openapi.finish)
    cli.register(app)
    operations_cli.register(app)

    telemetry.install(app)  # first: every later hook, and the error handlers, log with it

    @app.before_request
    def authenticate() -> None:
        auth.authenticate(verifier)

    app.before_request(telemetry.bind_caller)
    metrics.install(app, settings)

    import ui  # the officers' web pages, after the API's own hooks

    ui.register(app, settings)

    @app.after_request
    def echo_correlation(response: Response) -> Response:
        correlation_id = g.get("correlation_id")
        if correlation_id:
            response.headers[CORRELATION_HEADER] = correlation_id
        return response

    bodies.install(app)  # after authentication: JSON bodies checked before any route reads them
    return app


def _built_for_a_command() -> bool:
    """Whether a `flask --app api` command other than `run` is building the app.

    Those commands serve no request, and need no keys to list, draw, validate or migrate
    definitions; `mint-token` checks for itself. Servers (gunicorn, `flask run`) build the app
    outside such a command, and are refused without their keys.
    """
    command = click.get_current_context(silent=True)
    if command is None or command.find_object(ScriptInfo) is None:
        return False
    return command.command.name != "run"
