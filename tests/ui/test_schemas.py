"""Form schemas carry words for people, which the API documents too; validation ignores them."""

from __future__ import annotations

import json

from machines import changeofname, soletojoint
from services.forms import validate_form
from ui import forms


def test_openapi_document_shows_labels_and_leaves_out_the_pages(client):
    """Trigger schemas in the OpenAPI document have titles and hints; no page is an operation."""
    spec = client.get("/api/v1/openapi.json").get_json()
    name_form = spec["components"]["schemas"]["changeofname.EnterNewName.formData"]
    assert name_form["title"] == "Enter the tenant's new name"
    assert name_form["properties"]["firstName"]["title"] == "First name"
    assert not [path for path in spec["paths"] if not path.startswith("/api/")]


def test_definitions_endpoint_shows_the_words_of_each_form(client):
    """The definition of sole to joint names its questions as officers read them."""
    body = json.dumps(client.get("/api/v1/process-definitions/soletojoint").get_json())
    assert "Who do you want to add as a joint tenant?" in body
    assert "Create the new joint tenancy" in body


def test_labels_do_not_change_what_validation_accepts():
    """Labelled schemas accept and refuse what they did: booleans as text, no unknown keys."""
    trigger = soletojoint.definition.client_triggers["CheckTenancyBreach"]
    validate_form(trigger.form or {}, {"br5": "false", "br17": False, "br18": "False"}, "t")
    asked = forms.questions(trigger.form or {})
    assert [q.widget for q in asked] == ["yesno", "yesno", "yesno", "yesno"]
    assert asked[0].label.startswith("Is there a cautionary contact")


def test_every_question_of_the_reference_processes_has_a_label():
    """Every form and question of sole to joint and change of name has a title of its own."""
    for definition in (soletojoint.definition, changeofname.definition):
        for trigger in definition.client_triggers.values():
            assert (trigger.form or {}).get("title"), trigger.name
            for name, prop in (trigger.form or {}).get("properties", {}).items():
                assert prop.get("title"), (trigger.name, name)
