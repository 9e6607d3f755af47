"""Schemathesis against the served OpenAPI document: every operation, signed in as an
administrator, on real processes and documents as well as generated ids.

Each generated request must get an answer the document allows: no 5xx, a documented status
code, the documented content type, headers and body; a request the document calls invalid must
be refused, and one it calls valid must not be refused as malformed (400).

The short run is part of the normal suite. `make fuzz` runs the long one
(`pytest tests/fuzz -m fuzz_full`, at least 5,000 cases).
"""

from __future__ import annotations

import io
import os
import shutil
import time
from typing import Any

import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.openapi.checks import RejectedPositiveData

import machines
from api import create_app
from api.schemas import is_uuid
from services import forms
from tests.conftest import signed_in, token
from tests.fuzz.conftest import TALLY
from tests.support import BASE, fire, start

SHORT_EXAMPLES = 12
"""Fuzzing examples per operation in the normal suite (the examples and coverage phases add
their own deterministic cases)."""
FULL_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "400"))
"""Fuzzing examples per operation in `make fuzz`."""

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"

VALID_REFUSED = ["2xx", "3xx", "401", "403", "404", "409", "412", "413", "415", "422", "429"]
"""What a request the document calls valid may get: it may still be refused for what it
means (an unknown process 404, a trigger not allowed now 409, a stale If-Match 412, a file too
large or of a refused type 413/415, form data failing the trigger's schema 422), but not as
malformed (400)."""

INVALID_REFUSED = ["400", "401", "403", "404", "405", "406", "409", "412", "413", "415", "422"]
INVALID_REFUSED += ["428", "429"]
"""What a request the document calls invalid may get: schemathesis's own list, and 412 and
413, which come before the content is read (a stale If-Match is refused whatever the body
says, RFC 9110 13.2.1; so is a body over the size limit)."""

CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": VALID_REFUSED},
            "negative_data_rejection": {"expected-statuses": INVALID_REFUSED},
        }
    }
)

# The document is read from the app as served; the requests go to a fresh app per operation,
# on its own database with seeded processes (see `fuzz_app`).
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app({"TESTING": True, "MONGO_DB": "fuzz_unused"}, dispatch=lambda *_: None),
    config=CONFIG,
).exclude(path="/api/v1/healthcheck/ready")
# /ready takes no input, and rightly answers 503 here: the fuzzed app has no worker or beat
# (tests/telemetry/test_ready.py runs it against a whole service).

PROCESS_NAMES = sorted(machines.registry())
SEEDED: list[dict[str, Any]] = []
"""Real processes of the app under test: {process_name, process_id[, document_id]}."""


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Point about half the requests with valid ids at real processes (and documents), so that
    reads, changes and downloads reach stored data rather than only 404s. Invalid values,
    which the negative cases need, are left as generated."""
    if not path_parameters or not SEEDED or not _valid(path_parameters):
        return st.just(path_parameters)
    wanted = set(path_parameters) & {"process_name", "process_id", "document_id"}
    real = [s for s in SEEDED if wanted <= set(s)]
    if not real:
        return st.just(path_parameters)
    pick = st.sampled_from(real).map(
        lambda seeded: {**path_parameters, **{k: seeded[k] for k in wanted}}
    )
    return st.one_of(st.just(path_parameters), pick)


def _valid(path_parameters: dict[str, Any]) -> bool:
    """Whether every id and name in the path is one the document allows: replacing them with
    other valid values keeps a case as valid, or as invalid elsewhere, as it was generated."""
    if path_parameters.get("process_name", PROCESS_NAMES[0]) not in PROCESS_NAMES:
        return False
    for name in ("process_id", "document_id"):
        if name in path_parameters:
            try:
                is_uuid(path_parameters[name])
            except Exception:  # noqa: BLE001 - not a valid id: leave the case alone
                return False
    return True


@schema.hook
def filter_query(context: Any, query: dict[str, Any] | None) -> bool:
    """Drop generated queries with an empty list as a value: such a parameter is not sent at
    all, so a negative case made of unknown parameters with empty lists reaches the API as a
    valid request (and is rightly answered 200)."""
    return not any(value == [] for value in (query or {}).values())


@schema.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a 400 for rules the document states in words rather than as a
    schema: a trigger this process type does not have, a pagination token the API did not
    issue, a processName differing from the one in the URL, formData nested too deep, a v2
    start whose related entities do not include the target itself, a processData sent with a
    trigger that does not repeat its formData and documents, an assignment whose value and
    patch differ. And the
    documented 501 for an SVG diagram on a machine without Graphviz (`dot`)."""
    if response.status_code == 501 and shutil.which("dot") is None:
        return _problem_type(response) != "urn:processes-api:problem:graphviz-not-installed"
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    try:
        problem = response.json()
    except ValueError:
        return True
    detail = str(problem.get("detail", ""))
    messages = {error.get("message", "") for error in problem.get("errors", [])}
    return not (
        problem.get("type") == "urn:processes-api:problem:unknown-trigger"
        or detail.startswith("The paginationToken is not valid")
        or detail.startswith("processName in the body differs from the one in the URL")
        or messages == {f"Nested deeper than {forms.MAX_DEPTH} levels."}
        or (bool(messages) and all(m.startswith(IN_WORDS) for m in messages))
    )


IN_WORDS = (
    "RelatedEntities must contain object with",
    "Differs from formData",
    "Differs from documents",
    "Differs from patch",
)
"""The messages of those rules stated in words that a 400 may carry alone."""


def _problem_type(response: Any) -> str | None:
    try:
        problem = response.json()
    except ValueError:
        return None
    return problem.get("type") if isinstance(problem, dict) else None


def seed(client: FlaskClient) -> list[dict[str, Any]]:
    """A few processes in different states, one with a document."""
    seeded: list[dict[str, Any]] = []

    def keep(process: dict[str, Any]) -> dict[str, Any]:
        seeded.append({"process_name": process["processName"], "process_id": process["id"]})
        return process

    keep(start(client, "soletojoint"))
    keep(start(client, "tenancyaudit"))
    named = keep(start(client, "changeofname"))
    name = {"title": "Ms", "firstName": "Pat", "middleName": "", "surname": "Williams"}
    assert fire(client, named, "EnterNewName", name).status_code == 200
    assert fire(client, named, "RequestDocumentsDes").status_code == 200
    with_document = keep(start(client, "changeofname"))
    response = client.post(
        f"{BASE}/changeofname/{with_document['id']}/documents",
        data={"file": (io.BytesIO(PDF), "scan.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    seeded.append({**seeded[-1], "document_id": response.get_json()["id"]})
    ended = keep(start(client, "changeofname"))
    assert fire(client, ended, "CancelProcess", {"comment": "Withdrawn."}).status_code == 200
    return seeded


@pytest.fixture
def fuzz_app(app):  # type: ignore[no-untyped-def]
    """The app under test for one operation, on its own database, seeded; and the headers of
    an administrator."""
    SEEDED[:] = seed(signed_in(app, ["processes-admin"]))
    headers = {"Authorization": f"Bearer {token(app, ['processes-admin'])}"}
    started = time.monotonic()
    yield app, headers
    TALLY.seconds += time.monotonic() - started
    SEEDED.clear()


def run(case: Any, fuzz_app: Any) -> None:
    """Send the case and check the answer against the document (and the checks' own probes:
    without the token, with other methods)."""
    app, headers = fuzz_app
    response = case.call(app=app, headers=headers)
    TALLY.count(case.operation.label, response.status_code)
    case.validate_response(response, headers=headers, transport_kwargs={"app": app})


SUPPRESSED = [
    HealthCheck.too_slow,
    HealthCheck.filter_too_much,
    HealthCheck.data_too_large,
    HealthCheck.function_scoped_fixture,  # one seeded app per operation, shared by its cases
]


@schema.parametrize()
@settings(
    max_examples=SHORT_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=SUPPRESSED,
)
def test_api_answers_as_documented(case: Any, fuzz_app: Any) -> None:
    """A short, repeatable run over every operation (part of `make test`)."""
    run(case, fuzz_app)


@pytest.mark.fuzz_full
@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=FULL_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=SUPPRESSED,
)
def test_api_answers_as_documented_full(case: Any, fuzz_app: Any) -> None:
    """The long run (`make fuzz`): random, at least 5,000 cases over all operations."""
    run(case, fuzz_app)
