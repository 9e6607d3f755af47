"""The API's side of the metrics: requests, transitions and starts recorded as each request
is answered, and GET /metrics for Prometheus.

/metrics is not for the public: with METRICS_TOKEN set it wants `Authorization: Bearer
<METRICS_TOKEN>`; without, it answers only clients in METRICS_ALLOW_FROM (loopback by
default). nginx (deploy/nginx.conf) does not pass it on at all.
"""

from __future__ import annotations

import hmac
import ipaddress

from apiflask import APIBlueprint, APIFlask
from flask import Response, current_app, request

import machines
from api import telemetry
from api.problems import problem
from services.operations import case_figures
from settings import Settings
from storage.mongo import database
from storage.monitoring import watch_failures
from storage.operations import OperationsQueries
from telemetry import metrics

bp = APIBlueprint("metrics", __name__, enable_openapi=False)

OUTCOMES = {
    200: "applied",
    201: "applied",
    202: "applied",
    400: "invalid",
    403: "forbidden",
    404: "not_found",
    409: "not_allowed",
    412: "stale",
    422: "invalid",
}
"""A change's status, as the outcome its transition is counted under."""


def install(app: APIFlask, settings: Settings) -> None:
    """Record every request's metrics, and serve them at /metrics."""
    watch_failures(lambda kind: metrics.MONGODB_ERRORS.labels(kind).inc())
    app.after_request(_record)
    app.register_blueprint(bp)
    app.extensions["metrics_registry"] = metrics.exposition_registry(
        metrics.FiguresCollector(
            lambda: case_figures(_queries(settings), machines.registry()),
            ttl=settings.metrics_figures_seconds,
        )
    )


@bp.get("/metrics")
def scrape() -> Response:
    """This API's metrics in Prometheus's text format, for those allowed to read them."""
    settings: Settings = current_app.extensions["settings"]
    if not _allowed(settings):
        return problem(
            403,
            "Metrics are for the monitoring system: send METRICS_TOKEN as a bearer token.",
            slug="forbidden",
            title="Forbidden",
        )
    body, content_type = metrics.exposition(current_app.extensions["metrics_registry"])
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _allowed(settings: Settings) -> bool:
    if settings.metrics_token:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        )
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(
        client in ipaddress.ip_network(net, strict=False) for net in settings.metrics_allow_from
    )


def _record(response: Response) -> Response:
    status = response.status_code
    metrics.HTTP_REQUEST_SECONDS.labels(request.method, telemetry.route(), str(status)).observe(
        telemetry.elapsed()
    )
    done = telemetry.change(response)
    if done is not None:
        definitions = machines.registry()
        process = metrics.known(done.process_name, definitions)
        if request.endpoint in telemetry.STARTS and status == 201:
            metrics.STARTED.labels(process).inc()
        if done.trigger:
            triggers = definitions[process].trigger_by_name if process in definitions else ()
            metrics.TRANSITIONS.labels(
                process,
                metrics.known(done.trigger, triggers),
                OUTCOMES.get(status, "error" if status >= 500 else "refused"),
            ).inc()
    return response


def _queries(settings: Settings) -> OperationsQueries:
    return OperationsQueries(database(settings.mongo_uri, settings.mongo_db))
