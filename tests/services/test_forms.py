"""The checks of client data in services.forms, without I/O."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from services.errors import InvalidInput
from services.forms import NO_MARKUP_PATTERN, check_storable, has_markup

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
