"""What clients send, however malformed: a 4xx problem naming what is wrong, never a 5xx, and
nothing stored. Each class of defect is sent to every endpoint that takes a JSON body."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from pymongo.database import Database
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from api import bodies, create_app
from services import forms
from tests.conftest import token
from tests.support import BASE, body_of, new_id, start, start_body, v2_body

NAME_FORM = {"title": "Ms", "firstName": "Pat", "middleName": "", "surname": "Williams"}
LIMIT = 1024 * 1024
"""MAX_CONTENT_LENGTH of the JSON endpoints."""


def json_endpoints() -> list[tuple[str, str]]:
    """(method, rule) of every route that takes a JSON body: every POST, PUT and PATCH of the
    API but the multipart upload (the officer pages take HTML forms)."""
    app = create_app({"TESTING": True, "MONGO_DB": "unused"}, dispatch=lambda *_: None)
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "_spec", {}).get("content_type") == "multipart/form-data":
            continue
        for method in sorted((rule.methods or set()) & bodies.BODY_METHODS):
            found.append((method, rule.rule))
    return sorted(found)


ENDPOINTS = json_endpoints()


def valid_request(client: FlaskClient, method: str, rule: str) -> tuple[str, dict[str, Any]]:
    """A URL for `rule` on a fresh change of name process, and a body the route accepts."""
    process = start(client, "changeofname")
    path = (
        rule.replace("<process_name>", "changeofname")
        .replace("<process_id>", process["id"])
        .replace("<trigger:trigger>", "EnterNewName")
    )
    create = start_body("changeofname")
    if rule.endswith("<trigger:trigger>"):
        return path, {"formData": NAME_FORM}
    if rule.endswith("/automation/retry"):
        return path, {}
    if method == "PATCH":
        return path, {"trigger": "EnterNewName", "formData": NAME_FORM}
    if rule == "/api/v1/process":
        return path, create
    if rule.startswith("/api/v1/process/<process_name>"):
        return path, {k: v for k, v in create.items() if k != "processName"}
    if rule.startswith("/api/v2/process/<process_name>"):
        return path, v2_body("changeofname")
    raise AssertionError(f"no valid request written for {method} {rule}: add one here")


def snapshot(db: Database) -> dict[str, list[Any]]:
    """Everything stored, collection by collection (a collection made empty by an index
    created on first use holds nothing)."""
    found = {
        name: list(db[name].find({}, sort=[("_id", 1)])) for name in db.list_collection_names()
    }
    return {name: documents for name, documents in sorted(found.items()) if documents}


JSON = "application/json"


def send(
    client: FlaskClient,
    method: str,
    path: str,
    raw: bytes,
    content_type: str | None = JSON,
    **kwargs: Any,
) -> TestResponse:
    """`raw` as the body, labelled `content_type` (None: no Content-Type at all)."""
    if content_type is not None:
        kwargs["content_type"] = content_type
    response = client.open(path, method=method, data=raw, **kwargs)
    if content_type is None:
        assert "CONTENT_TYPE" not in response.request.environ
    return response


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.content_type == "application/problem+json"
    assert "Traceback" not in text
    return dict(json.loads(text))


@pytest.fixture(params=ENDPOINTS, ids=[f"{m} {r}" for m, r in ENDPOINTS])
def endpoint(request: pytest.FixtureRequest, client: FlaskClient) -> tuple[str, str, dict]:
    """(method, path, valid body) of one JSON endpoint, on a process of its own."""
    method, rule = request.param
    path, body = valid_request(client, method, rule)
    return method, path, body


def refused_then_accepted(
    client: FlaskClient,
    db: Database,
    endpoint: tuple[str, str, dict],
    bad: bytes,
    status: int,
    **kwargs: Any,
) -> dict[str, Any]:
    """Send `bad` (refused with `status`, nothing stored), then the endpoint's valid body
    (not refused as malformed): the refusal was for the defect, not for the request."""
    method, path, body = endpoint
    before = snapshot(db)
    problem = assert_problem(send(client, method, path, bad, **kwargs), status)
    assert snapshot(db) == before
    assert_taken(send(client, method, path, json.dumps(body).encode()))
    return problem


def assert_taken(response: TestResponse) -> None:
    """The body got past the checks of its form: any answer but malformed, too large, of the
    wrong type or a server error."""
    assert response.status_code not in (400, 413, 415), response.get_json()
    assert response.status_code < 500, response.get_json()


def test_the_json_endpoints_are_all_covered():
    """Every route taking a JSON body is among those the tests below send defects to."""
    rules = {rule for _, rule in ENDPOINTS}
    assert "/api/v1/process" in rules
    assert "/api/v1/process/<process_name>/<process_id>/<trigger:trigger>" in rules
    assert not any(rule.endswith("/documents") for rule in rules)


# --- media type -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", None, "application/xml", "json"],
)
def test_json_sent_as_another_type_is_415(
    client: FlaskClient, db: Database, endpoint: tuple[str, str, dict], content_type: str | None
):
    """A JSON body labelled as text, as a form (curl -d), as anything else or not at all is
    refused with 415 naming the type expected and the type sent, not silently ignored."""
    raw = json.dumps(endpoint[2] or {"x": 1}).encode()
    problem = refused_then_accepted(client, db, endpoint, raw, 415, content_type=content_type)
    assert "application/json" in problem["detail"]
    assert (content_type or "without a Content-Type") in problem["detail"]
    assert problem["type"] == "urn:processes-api:problem:unsupported-media-type"


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json"]
)
def test_json_and_json_suffixed_types_are_accepted(
    client: FlaskClient, endpoint: tuple[str, str, dict], content_type: str
):
    """application/json, with parameters, and +json types are all JSON."""
    method, path, body = endpoint
    assert_taken(send(client, method, path, json.dumps(body).encode(), content_type=content_type))


def test_an_empty_body_needs_no_content_type(client: FlaskClient):
    """A request without a body (a retry, a trigger without form data) is not a JSON body."""
    process = start(client, "changeofname")
    response = client.post(f"{BASE}/changeofname/{process['id']}/automation/retry")
    assert response.status_code == 409, response.get_json()


# --- nesting --------------------------------------------------------------------------------


DEEP = {
    "objects": lambda n: '{"formData": ' + '{"a": ' * n + "1" + "}" * n + "}",
    "arrays": lambda n: '{"formData": {"a": ' + "[" * n + "]" * n + "}}",
    "unclosed": lambda n: "[" * n,
    "in-processData": lambda n: '{"processData": {"formData": {"a": ' + "[" * n + "]" * n + "}}}",
}


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_json_nested_1000_levels_is_400_naming_the_limit(
    client: FlaskClient, db: Database, endpoint: tuple[str, str, dict], shape: str
):
    """A body nested about a thousand levels deep (the recursion limit) is refused before it
    is parsed, with a problem stating the depth allowed."""
    bad = DEEP[shape](1000).encode()
    problem = refused_then_accepted(client, db, endpoint, bad, 400)
    assert f"at most {bodies.MAX_DEPTH}" in problem["detail"]


def test_nesting_up_to_the_limit_is_parsed(client: FlaskClient):
    """The limit refuses only what is deeper: a body at the limit reaches the next check
    (formData's own, shallower limit), one level more is refused for the body's depth."""

    def edit(levels: int) -> bytes:
        inner = levels - 3  # the body, processData and formData are three levels
        return ('{"processData": {"formData": {"a": ' + "[" * inner + "]" * inner + "}}}").encode()

    assert bodies.nesting_depth(edit(bodies.MAX_DEPTH)) == bodies.MAX_DEPTH
    process = start(client, "tenancyaudit")
    path = f"{BASE}/tenancyaudit/{process['id']}"
    at_limit = assert_problem(send(client, "PATCH", path, edit(bodies.MAX_DEPTH)), 400)
    assert at_limit["errors"][0]["message"].startswith("Nested deeper than")
    over = assert_problem(send(client, "PATCH", path, edit(bodies.MAX_DEPTH + 1)), 400)
    assert f"{bodies.MAX_DEPTH + 1} levels deep" in over["detail"]


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b'{"a": "[[[[{{{{"}', 1),
        (b'{"a": "\\"[[[["}', 1),
        (b'{"a\\\\": [[]]}', 3),
        (b'"unterminated [[[[', 0),
        (b"[1, [2, [3]], {}]", 3),
        (b"", 0),
    ],
)
def test_nesting_depth_ignores_brackets_inside_strings(text: bytes, depth: int):
    """Brackets in strings, escaped quotes and unterminated strings do not count as nesting."""
    assert bodies.nesting_depth(text) == depth


# --- text -----------------------------------------------------------------------------------


SURROGATES = {
    "formData value": ({"formData": {"comment": "\udfff"}}, "formData.comment"),
    "formData key": ({"formData": {"\udfff": "x"}}, "formData.\\udfff"),
    "nested list item": ({"formData": {"a": [{"b": ["ok", "x\ud800"]}]}}, "formData.a[0].b[1]"),
    "top-level key": ({"\udc00": 1}, "\\udc00"),
    "related entity": (
        {"relatedEntities": [{"id": new_id(), "targetType": "person", "description": "\udfff"}]},
        "relatedEntities[0].description",
    ),
}


@pytest.mark.parametrize("where", sorted(SURROGATES))
def test_lone_surrogates_are_400_naming_the_field(
    client: FlaskClient, db: Database, endpoint: tuple[str, str, dict], where: str
):
    """A key or string holding a lone UTF-16 surrogate ("\\udfff"), which MongoDB cannot store,
    is refused with 400 naming where it is, on every endpoint, keys and values alike."""
    planted, field = SURROGATES[where]
    bad = json.dumps(planted).encode()  # ensure_ascii writes the escape "\udfff"
    assert b"\\udfff" in bad or b"\\ud800" in bad or b"\\udc00" in bad
    problem = refused_then_accepted(client, db, endpoint, bad, 400)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert field in problem["detail"]


def test_surrogate_pairs_are_characters_and_accepted(client: FlaskClient):
    """An escaped surrogate pair is one character (an emoji) and is stored as such."""
    process = start(client, "changeofname")
    raw = json.dumps({"formData": {**NAME_FORM, "firstName": "Pat \U0001f600"}}).encode()
    assert b"\\ud83d\\ude00" in raw
    response = send(client, "PATCH", f"{BASE}/changeofname/{process['id']}/EnterNewName", raw)
    assert response.status_code == 200, response.get_json()
    stored = body_of(response)["currentState"]["processData"]["formData"]["firstName"]
    assert stored == "Pat \U0001f600"


def test_many_bad_strings_are_named_up_to_a_limit(client: FlaskClient, db: Database):
    """Thousands of bad strings get one short problem: the first few named, the rest counted."""
    raw = json.dumps({"formData": {"a": ["\udfff"] * 5000}}).encode()
    before = snapshot(db)
    problem = assert_problem(send(client, "POST", BASE, raw), 400)
    assert len(problem["errors"]) == bodies.MAX_REPORTED
    assert f"and {5000 - bodies.MAX_REPORTED} more" in problem["detail"]
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"formData": {"a": "\xed\xb3\xbf"}}', "not UTF-8"),
        (b'{"formData": {"a": "\xff"}}', "not UTF-8"),
        (b'{"formData": {"n": ' + b"1" * 5000 + b"}}", "too many digits"),
        (b'{"formData": ', "not valid JSON"),
    ],
    ids=["utf8-surrogate", "latin1", "5000-digits", "truncated"],
)
def test_undecodable_bodies_are_400_saying_why(
    client: FlaskClient, db: Database, endpoint: tuple[str, str, dict], raw: bytes, says: str
):
    """Bytes that are not UTF-8 (surrogates encoded directly among them), a number with more
    digits than can be converted and truncated text are refused as invalid JSON."""
    problem = refused_then_accepted(client, db, endpoint, raw, 400)
    assert says in problem["detail"]


# --- size -----------------------------------------------------------------------------------


def padded(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON of exactly `size` bytes (spaces before the closing brace)."""
    raw = json.dumps(body).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


def test_chunked_body_over_the_limit_is_413_in_the_test_client(
    client: FlaskClient, db: Database, endpoint: tuple[str, str, dict]
):
    """A chunked body (no Content-Length) is cut at the limit by the framework; past the limit
    it is 413 naming the limit, not "not valid JSON"."""
    method, path, body = endpoint
    chunked = {
        "headers": {"Transfer-Encoding": "chunked"},
        "environ_overrides": {"wsgi.input_terminated": True},
    }
    problem = refused_then_accepted(
        client, db, endpoint, padded(body or {"x": 1}, LIMIT + 1), 413, **chunked
    )
    assert str(LIMIT) in problem["detail"]
    assert_taken(send(client, method, path, padded(body or {"x": 1}, LIMIT), **chunked))


def test_body_over_the_limit_by_content_length_is_413(
    client: FlaskClient, db: Database, endpoint: tuple[str, str, dict]
):
    """A Content-Length over the limit is refused before the body is read, with the same
    problem."""
    problem = refused_then_accepted(
        client, db, endpoint, padded(endpoint[2] or {"x": 1}, LIMIT + 1), 413
    )
    assert problem["type"] == "urn:processes-api:problem:body-too-large"


def chunked_post(port: int, path: str, raw: bytes, auth: str) -> tuple[int, dict[str, Any]]:
    """POST `raw` with Transfer-Encoding: chunked, in 64 KB chunks, over a real socket."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = (raw[i : i + 65536] for i in range(0, len(raw), 65536))
        connection.request(
            "POST",
            path,
            body=chunks,
            headers={"Authorization": auth, "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.getheader("Content-Type", "").startswith("application/")
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def werkzeug_server(app) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """The test app behind Werkzeug's threaded server on a free port."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def gunicorn_server(db: Database) -> Iterator[int]:
    """The API under gunicorn, as deployed, on the test database and a free port."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MONGO_DB": db.name}
    argv = [sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", "1"]
    argv += ["-b", f"127.0.0.1:{port}", "api:create_app()"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                connection.request("GET", "/api/v1/healthcheck/ping")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
            finally:
                connection.close()
        else:
            raise AssertionError("gunicorn did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(15)


def check_chunked_limit(port: int, auth: str, db: Database) -> None:
    body = start_body("changeofname")
    before = snapshot(db)
    status, problem = chunked_post(port, BASE, padded(body, 2 * LIMIT), auth)
    assert status == 413, problem
    assert problem["type"] == "urn:processes-api:problem:body-too-large"
    status, problem = chunked_post(port, BASE, padded(body, LIMIT + 1), auth)
    assert status == 413, problem
    assert snapshot(db) == before
    status, created = chunked_post(port, BASE, padded(body, LIMIT), auth)
    assert status == 201, created


def test_chunked_body_over_the_limit_is_413_through_werkzeug(
    app, werkzeug_server: int, db: Database
):
    """Through a real server (Werkzeug's), a chunked body past 1 MB is 413 and stores nothing;
    one of exactly 1 MB is accepted."""
    check_chunked_limit(werkzeug_server, f"Bearer {token(app, ['processes-admin'])}", db)


@pytest.mark.slow
def test_chunked_body_over_the_limit_is_413_through_gunicorn(
    app, gunicorn_server: int, db: Database
):
    """The same under gunicorn, the server the service is deployed with."""
    check_chunked_limit(gunicorn_server, f"Bearer {token(app, ['processes-admin'])}", db)


# --- the checks' own cost -------------------------------------------------------------------


def test_nesting_scan_is_linear_on_hostile_input():
    """The depth scan of a 1 MB body takes milliseconds whatever it holds (runs of brackets,
    of escaped quotes, an unterminated string), so it cannot be made to spin."""
    hostile: list[Callable[[], bytes]] = [
        lambda: b"[" * LIMIT,
        lambda: b'"' + b'\\"' * (LIMIT // 2),
        lambda: b'"\\' * (LIMIT // 2),
        lambda: b"[]," * (LIMIT // 3),
    ]
    for make in hostile:
        raw = make()
        began = time.perf_counter()
        bodies.nesting_depth(raw)
        assert time.perf_counter() - began < 2.0, raw[:20]


# --- ids ------------------------------------------------------------------------------------

NIL = "00000000-0000-0000-0000-000000000000"


def nil_requests(process: dict[str, Any]) -> dict[str, tuple[str, str, Any, str]]:
    """(method, path, JSON body or query, field named) of each place an id is expected."""
    url = f"{BASE}/changeofname/{process['id']}"
    body = start_body("changeofname")
    return {
        "create targetId": ("POST", BASE, {**body, "targetId": NIL}, "targetId"),
        "create document": ("POST", BASE, {**body, "documents": [NIL]}, "documents.0"),
        "related entity id": (
            "POST",
            BASE,
            {**body, "relatedEntities": [{"id": NIL, "targetType": "person"}]},
            "relatedEntities.0.id",
        ),
        "trigger document": (
            "PATCH",
            url,
            {"trigger": "EnterNewName", "formData": NAME_FORM, "documents": [NIL]},
            "documents.0",
        ),
        "trigger in URL document": (
            "PATCH",
            f"{url}/EnterNewName",
            {"formData": NAME_FORM, "documents": [new_id(), NIL]},
            "documents.1",
        ),
        "edit document": (
            "PATCH",
            url,
            {"processData": {"documents": [NIL]}},
            "processData.documents.0",
        ),
        "listing targetId": ("GET", f"{BASE}?targetId={NIL}", None, "targetId"),
        "process id in URL": ("GET", f"{BASE}/changeofname/{NIL}", None, "id"),
        "document id in URL": ("GET", f"{url}/documents/{NIL}", None, "documentId"),
    }


@pytest.mark.parametrize("where", sorted(nil_requests({"id": NIL})))
def test_the_nil_uuid_is_400_wherever_an_id_is_expected(
    client: FlaskClient, db: Database, where: str
):
    """00000000-0000-0000-0000-000000000000 is nobody's id: it is refused with 400 naming the
    field in bodies, queries and paths, and nothing is stored."""
    process = start(client, "changeofname")
    method, path, body, field = nil_requests(process)[where]
    before = snapshot(db)
    if body is None:
        response = client.open(path, method=method)
    else:
        response = send(client, method, path, json.dumps(body).encode())
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert "nil UUID" in problem["errors"][0]["message"]
    assert snapshot(db) == before


# --- creating -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [BASE, f"{BASE}/changeofname", f"{BASE}/changeofname/"])
def test_create_without_related_entities_is_400(client: FlaskClient, db: Database, url: str):
    """relatedEntities is required to start a process, as in the existing API (an empty list
    is a valid answer: nothing is related yet)."""
    body = start_body("changeofname")
    del body["relatedEntities"]
    before = snapshot(db)
    problem = assert_problem(client.post(url, json=body), 400)
    assert [e["field"] for e in problem["errors"]] == ["relatedEntities"]
    assert snapshot(db) == before
    assert client.post(url, json={**body, "relatedEntities": []}).status_code == 201


# --- markup ---------------------------------------------------------------------------------


def markup_requests(process: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any], str]]:
    """(method, path, body, field named) of each place free text is taken."""
    url = f"{BASE}/changeofname/{process['id']}"
    body = start_body("changeofname")
    tenant = {"id": new_id(), "targetType": "person", "subType": "tenant"}
    v2 = v2_body("changeofname")
    return {
        "start form value": ("POST", BASE, {**body, "formData": {"a": "<b>x</b>"}}, "formData.a"),
        "start form key": ("POST", BASE, {**body, "formData": {"<i>": 1}}, "formData.<i>"),
        "related description": (
            "POST",
            BASE,
            {**body, "relatedEntities": [{**tenant, "description": "<script>x</script>"}]},
            "relatedEntities.0.description",
        ),
        "related subType": (
            "POST",
            BASE,
            {**body, "relatedEntities": [{**tenant, "subType": "&#116;enant"}]},
            "relatedEntities.0.subType",
        ),
        "assignment": (
            "POST",
            BASE,
            {**body, "assignment": {"patch": "<E1>"}},
            "assignment.patch",
        ),
        "patchAssignment name": (
            "POST",
            "/api/v2/process/changeofname",
            {**v2, "patchAssignment": {**v2["patchAssignment"], "responsibleName": "<b>Jo</b>"}},
            "patchAssignment.responsibleName",
        ),
        "v2 related description": (
            "POST",
            "/api/v2/process/changeofname",
            {
                **v2,
                "relatedEntities": [
                    {**e, "description": "</td>"} if e["targetType"] == "asset" else e
                    for e in v2["relatedEntities"]
                ],
            },
            "relatedEntities.2.description",
        ),
        "trigger form value": (
            "PATCH",
            url,
            {"trigger": "EnterNewName", "formData": {**NAME_FORM, "firstName": "<?php"}},
            "formData.firstName",
        ),
        "trigger in URL, nested": (
            "PATCH",
            f"{url}/CancelProcess",
            {"formData": {"comment": "ok", "x": [{"y": "<!--"}]}},
            "formData.x[0].y",
        ),
        "edit form value": (
            "PATCH",
            url,
            {"processData": {"formData": {"middleName": "<a href=x>"}}},
            "formData.middleName",
        ),
        "edit assignment": (
            "PATCH",
            url,
            {"assignment": {"patch": "patch1", "officerName": "<b>Sam</b>"}},
            "assignment.officerName",
        ),
    }


@pytest.mark.parametrize("where", sorted(markup_requests({"id": new_id()})))
def test_markup_in_free_text_is_400_naming_the_field(
    client: FlaskClient, db: Database, where: str
):
    """Text holding markup (a `<` before a letter, `!`, `/` or `?`, or `&#`) is refused with
    400 naming the field, in form data (keys and values, at any depth), related entities and
    assignments, as the existing API's validators do; nothing is stored."""
    process = start(client, "changeofname")
    method, path, body, field = markup_requests(process)[where]
    before = snapshot(db)
    problem = assert_problem(send(client, method, path, json.dumps(body).encode()), 400)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert "Markup" in problem["errors"][0]["message"]
    assert snapshot(db) == before


def test_text_that_only_looks_like_markup_is_accepted(client: FlaskClient):
    """Comparisons and ampersands are ordinary text: "5 < 6", "<3", "Tom & Jerry", "&amp;"."""
    process = start(
        client,
        "changeofname",
        relatedEntities=[{"id": new_id(), "targetType": "person", "description": "Flat 1 & 2"}],
    )
    response = send(
        client,
        "PATCH",
        f"{BASE}/changeofname/{process['id']}/CancelProcess",
        json.dumps({"formData": {"comment": "5 < 6, <3, Tom & Jerry, &amp;"}}).encode(),
    )
    assert response.status_code == 200, response.get_json()


def test_the_document_states_the_markup_rule(client: FlaskClient):
    """The OpenAPI document gives free-text fields the pattern the API enforces, so clients and
    generated requests know it."""
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    pattern = forms.NO_MARKUP_PATTERN
    assert {"type": "string", "pattern": pattern} in schemas["FormValue"]["anyOf"]
    assert {"pattern": pattern} in schemas["FormData"]["propertyNames"]["allOf"]
    assert schemas["RelatedEntity"]["properties"]["description"]["pattern"] == pattern
    assert schemas["PatchAssignment"]["properties"]["responsibleName"]["pattern"] == pattern
    assert schemas["Assignment"]["properties"]["patch"]["pattern"] == pattern
