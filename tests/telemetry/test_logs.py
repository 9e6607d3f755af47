"""The log format every runtime shares: one JSON object a line with the context bound for the
request or task, a console format for people, and personal details never written."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from telemetry import context, logs


@pytest.fixture(name="configured")
def _configured() -> Iterator[None]:
    """The process's logging as a runtime sets it up, put back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    context.clear()


def test_a_line_is_one_json_object_with_the_bound_context(configured, capsys):
    """A standard-library log call in a request writes one JSON line: timestamp, level, logger,
    message and service first, then the request's correlation id and process."""
    logs.configure("api", "INFO", "json")
    context.bind(correlationId="corr-7", processId="p-1")
    logging.getLogger("services.automation").warning("step %s skipped", "check")
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert list(record)[:5] == ["timestamp", "level", "logger", "message", "service"]
    assert record["message"] == "step check skipped"
    assert (record["level"], record["logger"], record["service"]) == (
        "warning",
        "services.automation",
        "api",
    )
    assert (record["correlationId"], record["processId"]) == ("corr-7", "p-1")


def test_personal_details_and_secrets_are_never_written(configured, capsys):
    """Form data, names, emails and tokens passed as fields are replaced by a mark, at any
    depth, whatever the level."""
    logs.configure("worker", "DEBUG", "json")
    logs.get_logger("workers.steps").debug(
        "details",
        formData={"surname": "Quillfeather"},
        actor={"id": "officer-1", "name": "Jo Bloggs", "email": "jo@example.org"},
        authorization="Bearer abc",
    )
    err = capsys.readouterr().err
    record = json.loads(err)
    assert record["formData"] == logs.REDACTED
    assert record["actor"] == {"id": "officer-1", "name": logs.REDACTED, "email": logs.REDACTED}
    assert record["authorization"] == logs.REDACTED
    for secret in ("Quillfeather", "Jo Bloggs", "jo@example.org", "abc"):
        assert secret not in err


def test_the_console_format_is_for_people(configured, capsys):
    """LOG_FORMAT=console writes a readable line, not JSON, with the same context."""
    logs.configure("api", "INFO", "console")
    context.bind(correlationId="corr-8")
    logging.getLogger("api.access").info("GET /api/v1/process 200")
    (line,) = capsys.readouterr().err.splitlines()
    assert not line.startswith("{")
    assert "GET /api/v1/process 200" in line
    assert "correlationId=corr-8" in line


def test_libraries_that_log_what_they_send_are_kept_quiet(configured, capsys):
    """pymongo's command log (which holds documents) is not written at INFO."""
    logs.configure("api", "INFO", "json")
    logging.getLogger("pymongo.command").info("a command with a document")
    assert capsys.readouterr().err == ""
