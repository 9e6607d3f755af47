"""The HTTP API: an apiflask application assembled from its blueprints."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from apiflask import APIFlask
from flask import Response, g, request

import settings as settings_module
from api import auth, cli, errors, health, openapi, problems, processes
from machines.validate import check_registry
from services.authorisation import Policy
from services.forms import format_checker
from services.paging import PageTokens
from services.processes import Dispatch
from services.steps import STEPS
from storage import ProcessRepository, repository

log = logging.getLogger(__name__)

CORRELATION_HEADER = "x-correlation-id"


def create_app(
    config: Mapping[str, Any] | None = None, *, dispatch: Dispatch | None = None
) -> APIFlask:
    """Build the API. `config` overrides settings from the environment (tests use it)."""
    check_registry(STEPS, format_checker=format_checker)  # refuse to serve a broken definition
    app = APIFlask(
        __name__,
        title="Processes API",
        version="1.0.0",
        spec_path="/api/v1/openapi.json",
        docs_path="/api/docs",
    )
    app.config.update(
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
    app.extensions["settings"] = settings
    app.extensions["policy"] = overrides.get("AUTH_POLICY") or Policy.from_file(
        settings.auth_policy_file
    )
    verifier = auth.TokenVerifier(settings)

    indexed: list[bool] = []

    def process_repository() -> ProcessRepository:
        repo = repository(settings)
        if not indexed:
            repo.create_indexes()  # idempotent; once per process, on first use
            indexed.append(True)
        return repo

    app.extensions["repository"] = process_repository
    if dispatch is None:
        from workers.dispatch import dispatch as queue_dispatch

        dispatch = queue_dispatch
    app.extensions["dispatch"] = dispatch
    app.extensions["page_tokens"] = PageTokens(settings.secret_key)

    errors.register(app)
    app.register_blueprint(processes.bp)
    app.register_blueprint(health.bp)
    from api import definitions  # process definitions: JSON, Mermaid, SVG

    app.register_blueprint(definitions.bp)
    from api import documents  # the uploads blueprint, with its own error handlers

    app.register_blueprint(documents.bp)
    app.spec_processor(openapi.finish)
    cli.register(app)

    @app.before_request
    def correlate() -> None:
        g.correlation_id = request.headers.get(CORRELATION_HEADER) or str(uuid.uuid4())

    @app.before_request
    def authenticate() -> None:
        auth.authenticate(verifier)

    @app.after_request
    def echo_correlation(response: Response) -> Response:
        correlation_id = g.get("correlation_id")
        if correlation_id:
            response.headers[CORRELATION_HEADER] = correlation_id
        response.headers["Access-Control-Expose-Headers"] = "ETag, Location, x-correlation-id"
        return response

    return app
