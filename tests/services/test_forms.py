"""The checks of client data in services.forms, without I/O."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import machines
from services.errors import InvalidInput
from services.forms import (
    NO_MARKUP_PATTERN,
    check_storable,
    drop_unanswered,
    has_markup,
    validate_form,
)

MARKUP = ["<b>", "a<script>", "<!-- x", "</p>", "<?xml", "&#60;", "x&#x3c;", "<<a", "&&#"]
HARMLESS = ["a < b", "5<6", "Tom & Jerry", "&amp;", "<3", "x<", "&", "<", "< a", "<&", ""]


@pytest.mark.parametrize("text", MARKUP)
def test_markup_is_recognised(text: str):
    """A `<` before a letter, `!`, `/` or `?`, or `&#`, is markup (the existing rule W42)."""
    assert has_markup(text)


@pytest.mark.parametrize("text", HARMLESS)
def test_comparisons_and_ampersands_are_not_markup(text: str):
    """Text that only looks alike (a comparison, an ampersand, a heart) is accepted."""
    assert not has_markup(text)


@given(st.text(alphabet=st.sampled_from("<&#a!/?Z1 -\n")) | st.text())
def test_the_documented_pattern_accepts_exactly_the_text_without_markup(text: str):
    """The OpenAPI document's pattern (read as JSON Schema reads it) and the check agree on
    every string, so generated requests the document allows are never refused for markup."""
    documented = Draft202012Validator({"type": "string", "pattern": NO_MARKUP_PATTERN})
    assert documented.is_valid(text) == (not has_markup(text))
    assert bool(re.search(NO_MARKUP_PATTERN, text)) == (not has_markup(text))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"reason": "<b>no</b>"}, "formData.reason"),
        ({"<img src=x>": 1}, "formData.<img src=x>"),
        ({"a": [{"b": "&#106;avascript"}]}, "formData.a[0].b"),
    ],
)
def test_markup_anywhere_in_stored_data_is_refused(value: dict, field: str):
    """Keys and strings at any depth are checked before anything is stored: 400 naming it."""
    with pytest.raises(InvalidInput) as refused:
        check_storable(value, "formData")
    assert not refused.value.unprocessable
    assert [e.field for e in refused.value.errors] == [field]


def questions(required: bool) -> list[tuple[str, str, str]]:
    """(process, trigger, key) of every enumerated question of every client trigger without ""
    among its answers, optional or required."""
    found = []
    for definition in machines.registry().values():
        for trigger in definition.client_triggers.values():
            form = trigger.form or {}
            for key, schema in form.get("properties", {}).items():
                if "enum" in schema and "" not in schema["enum"]:
                    if (key in form.get("required", ())) == required:
                        found.append((definition.name, trigger.name, key))
    return found


def form_of(process_name: str, trigger_name: str) -> dict:
    return dict(machines.registry()[process_name].client_triggers[trigger_name].form or {})


@pytest.mark.parametrize(("process_name", "trigger", "key"), questions(required=False))
def test_an_optional_enumerated_question_sent_empty_is_left_out(
    process_name: str, trigger: str, key: str
):
    """ "" for an optional enumerated answer is an unanswered question: dropped, so the form
    passes its schema and nothing is stored for it."""
    form = form_of(process_name, trigger)
    example = dict(machines.registry()[process_name].client_triggers[trigger].example or {})
    sent = {**example, key: ""}
    with pytest.raises(InvalidInput):
        validate_form(form, sent, trigger)
    kept = drop_unanswered(form, sent)
    assert kept == {k: v for k, v in example.items() if k != key}
    validate_form(form, kept, trigger)


@pytest.mark.parametrize(("process_name", "trigger", "key"), questions(required=True))
def test_a_required_enumerated_question_sent_empty_is_still_refused(
    process_name: str, trigger: str, key: str
):
    """A required question cannot be left unanswered: "" stays, and the schema refuses it."""
    form = form_of(process_name, trigger)
    sent = {key: ""}
    assert drop_unanswered(form, sent) == sent


def test_empty_text_and_enumerations_allowing_empty_are_kept():
    """Only enumerations without "" are affected: an empty text answer, or "" where the
    answers include it, is an answer."""
    form = {
        "type": "object",
        "properties": {"note": {"type": "string"}, "pick": {"enum": ["", "a"]}},
    }
    assert drop_unanswered(form, {"note": "", "pick": ""}) == {"note": "", "pick": ""}
