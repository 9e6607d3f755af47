"""Log set-up of the API, the workers and beat: one JSON object a line, or a console format.

Everything logs through the standard library: this service's modules, Flask, gunicorn, Celery,
pymongo. structlog's ProcessorFormatter renders each record with the context bound for the
current request or task (`telemetry.context`): a line carries `timestamp`, `level`, `logger`,
`message`, `service` and whatever applies of correlationId, processId, processName, trigger,
fromState, toState, version, sub, taskId, taskName and durationMs.

LOG_FORMAT=console gives people a readable line instead; LOG_LEVEL (INFO) sets the level.
Values under keys that may hold personal data or secrets (form data, names, tokens) are never
written, whatever the level.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
from collections.abc import Mapping, MutableMapping
from functools import lru_cache
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        *("formdata", "processdata", "documents", "data", "eventdata", "olddata", "newdata"),
        *("name", "firstname", "middlename", "surname", "title", "email", "dateofbirth"),
        *("authorization", "token", "password", "secret", "cookie", "args", "kwargs"),
    }
)
"""Keys (compared in lower case) whose values a log line never shows."""
QUIET_LOGGERS = {"pymongo": logging.WARNING, "urllib3": logging.WARNING}
"""Libraries that write what they send (queries, documents) at INFO or DEBUG."""

_service = {"name": "processes"}


def redact(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Replace the values of `SENSITIVE_KEYS`, at any depth, by a mark."""
    return _redacted(event)  # type: ignore[return-value]


def _redacted(value: Any) -> Any:
    # Every line passes here: scalars, most of a line's values, are kept without a call.
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if _sensitive(key)
            else (_redacted(item) if isinstance(item, _NESTED) else item)
            for key, item in value.items()
        }
    if isinstance(value, _NESTED):
        return [_redacted(item) if isinstance(item, _NESTED) else item for item in value]
    return value


_NESTED = (Mapping, list, tuple)


@lru_cache(maxsize=1024)  # keys are few; bounded against any that are not
def _sensitive(key: Any) -> bool:
    return str(key).lower() in SENSITIVE_KEYS


def _add_service(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    event.setdefault("service", _service["name"])
    return event


def _rename_level(_logger: WrappedLogger, _method: str, event: MutableMapping[str, Any]) -> Any:
    level = event.get("level")
    if isinstance(level, str):
        event["level"] = level.lower()
    return event


FIRST_KEYS = ("timestamp", "level", "logger", "message", "service")


def _ordered(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The keys every line has first, in the same order, then the context."""
    first = {key: event.pop(key) for key in FIRST_KEYS if key in event}
    return {**first, **event}


def _shared_processors() -> list[Processor]:
    """What every line goes through, from structlog's loggers and from the standard library's."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        _rename_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _add_service,
        redact,
    ]


def formatter(fmt: str | None = None) -> logging.Formatter:
    """The formatter of every handler: JSON lines, or `console` for people."""
    console = (fmt or os.environ.get("LOG_FORMAT", "json")).strip().lower() == "console"
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=False, event_key="message")
        if console
        else structlog.processors.JSONRenderer(serializer=_json_line)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            _ordered,
            renderer,
        ],
    )


def _json_line(event: Any, **_options: Any) -> str:
    """One line of JSON, by orjson (a line is written for every request); anything it
    cannot encode as JSON is written as its `str`."""
    return orjson.dumps(event, default=str).decode()


def level(value: str | int | None = None) -> int:
    """The level to log at: `value`, else LOG_LEVEL, else INFO."""
    chosen = value if value is not None else os.environ.get("LOG_LEVEL", "INFO")
    if isinstance(chosen, int):
        return chosen
    resolved = logging.getLevelName(chosen.strip().upper())
    return resolved if isinstance(resolved, int) else logging.INFO


def configure_structlog(service: str) -> None:
    """Let structlog's loggers hand their events to the standard library's handlers."""
    _service["name"] = service
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure(service: str, log_level: str | int | None = None, fmt: str | None = None) -> None:
    """Send every log record of this process to stderr in the chosen format."""
    configure_structlog(service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level(log_level))
    _quieten(root.level)


def _quieten(root_level: int) -> None:
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, root_level))


def gunicorn_logconfig(service: str = "api") -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its own loggers and the app's through one JSON handler."""
    configure_structlog(service)
    chosen = logging.getLevelName(level())
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": "telemetry.logs.formatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": chosen, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": chosen, "handlers": [], "propagate": True},
            # The API writes its own access lines (telemetry in api/metrics.py): with the route
            # and the caller, and without the query string.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            **{
                name: {"level": logging.getLevelName(max(quiet, level()))}
                for name, quiet in QUIET_LOGGERS.items()
            },
        },
    }


def get_logger(name: str) -> Any:
    """A structlog logger named `name`: `log.info("message", key=value, ...)`."""
    return structlog.get_logger(name)
