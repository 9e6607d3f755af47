"""The OpenAPI document shows, on the PATCH operations themselves, which fields each trigger
takes: one body schema per process type and trigger, its form reachable from the operation,
each with an example that passes it."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

import machines

PATCH_BY_ID = "/api/v1/process/{process_name}/{process_id}"
PATCH_TRIGGER = "/api/v1/process/{process_name}/{process_id}/{trigger}"


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    document = client.get("/api/v1/openapi.json").get_json()
    assert isinstance(document, dict)
    return document


def body(spec: dict[str, Any], path: str) -> dict[str, Any]:
    media = spec["paths"][path]["patch"]["requestBody"]["content"]["application/json"]
    assert isinstance(media, dict)
    return media


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema` resolving the document's `#/components/...` references."""
    return Draft202012Validator({**schema, "components": spec["components"]})


@pytest.mark.parametrize("path", [PATCH_BY_ID, PATCH_TRIGGER])
def test_every_client_trigger_has_its_body_on_the_patch_operations(spec, path):
    """Each trigger of each process type is one alternative of the operation's body, named
    for both, whose formData is that trigger's form."""
    alternatives = [ref["$ref"].rsplit("/", 1)[1] for ref in body(spec, path)["schema"]["anyOf"]]
    suffix = "body" if path == PATCH_BY_ID else "triggerBody"
    expected = {
        f"{d.name}.{t}.{suffix}" for d in machines.registry().values() for t in d.client_triggers
    }
    assert expected <= set(alternatives)
    schemas = spec["components"]["schemas"]
    for name in expected:
        form = schemas[name]["properties"]["formData"]["$ref"]
        assert form == f"#/components/schemas/{name.rsplit('.', 1)[0]}.formData"
        assert schemas[name]["title"]
        assert schemas[name]["description"]


@pytest.mark.parametrize("path", [PATCH_BY_ID, PATCH_TRIGGER])
def test_every_example_of_the_patch_operations_passes_its_body(spec, path):
    """The examples shown in the interactive docs are bodies the API would take: each passes
    the alternative of its trigger, and the document's body schema."""
    media = body(spec, path)
    whole = validator(spec, media["schema"])
    suffix = "body" if path == PATCH_BY_ID else "triggerBody"
    assert len(media["examples"]) >= sum(
        len(d.client_triggers) for d in machines.registry().values()
    )
    for key, example in media["examples"].items():
        assert not list(whole.iter_errors(example["value"])), key
        if key != "edit":
            own = validator(spec, {"$ref": f"#/components/schemas/{key}.{suffix}"})
            assert not list(own.iter_errors(example["value"])), key


def test_a_body_with_an_unknown_field_fits_no_alternative(spec):
    """Answers sent beside formData fit none of the documented bodies, as the API refuses."""
    whole = validator(spec, body(spec, PATCH_TRIGGER)["schema"])
    assert list(whole.iter_errors({"formData": {}, "firstName": "Ann"}))


def test_every_trigger_and_field_is_described_wherever_it_is_shown(spec, client, app):
    """What each trigger does and what each field asks are in words, in the OpenAPI
    document, the definitions endpoint and `definition show` alike."""
    shown = app.test_cli_runner()
    for definition in machines.registry().values():
        described = client.get(f"/api/v1/process-definitions/{definition.name}").get_json()
        triggers = {t["name"]: t for t in described["triggers"]}
        printed = shown.invoke(args=["definition", "show", definition.name]).output
        for name, trigger in definition.client_triggers.items():
            body = spec["components"]["schemas"][f"{definition.name}.{name}.body"]
            assert trigger.description, (definition.name, name)
            assert trigger.description in body["description"]
            assert triggers[name]["description"] == trigger.description
            assert f"{name}: {trigger.description}" in printed
            form = spec["components"]["schemas"][f"{definition.name}.{name}.formData"]
            for field, schema in form.get("properties", {}).items():
                words = schema.get("title") or schema.get("description")
                assert words, (definition.name, name, field)
                assert f"{field}: {words}" in printed
