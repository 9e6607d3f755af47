"""The schema-to-form mapping on its own: widgets, reading typed answers, error wording."""

from __future__ import annotations

from machines import soletojoint, stages
from machines.forms import BOOLEAN, TEXT, form, must_be_true
from services.errors import FieldError
from ui import forms


def test_widgets_follow_the_schema():
    """Yes/no radios, one confirmation checkbox, a textarea for free text, dates with parts."""
    schema = form(
        {"answer": BOOLEAN, "seen": must_be_true("Confirm it")},
        {"notes": TEXT, "when": {"type": "string", "format": "date"}},
    )
    asked = forms.questions(schema)
    assert [(q.name, q.widget, q.required) for q in asked] == [
        ("answer", "yesno", True),
        ("seen", "confirm", True),
        ("notes", "textarea", False),
        ("when", "date", False),
    ]
    assert asked[3].inputs() == ["when-day", "when-month", "when-year"]
    assert asked[3].anchor == "when-day"


def test_typed_answers_become_form_data_and_back():
    """Yes/no becomes booleans, parts become ISO dates, blanks are left out; and back again."""
    trigger = soletojoint.definition.client_triggers["UpdateTenure"]
    asked = forms.questions(trigger.form or {})
    typed = {
        "tenureStartDate-day": "4",
        "tenureStartDate-month": "1",
        "tenureStartDate-year": "2030",
    }
    data = forms.form_data(asked, typed)
    assert data == {"tenureStartDate": "2030-01-04"}
    assert forms.values_of(asked, data) == typed
    assert forms.answers(asked, data) == [
        ("Start date of the new joint tenancy", "4 January 2030")
    ]
    yes_no = forms.questions(form({"q": BOOLEAN}))
    assert forms.form_data(yes_no, {"q": "no"}) == {"q": False}
    assert forms.form_data(yes_no, {}) == {}


def test_appointments_take_a_date_and_a_time():
    """Day, month, year, hour and minute make one local date and time."""
    asked = forms.questions(stages.appointment_form("Book it"))
    typed = {
        "appointmentDateTime-day": "9",
        "appointmentDateTime-month": "12",
        "appointmentDateTime-year": "2029",
        "appointmentDateTime-hour": "9",
        "appointmentDateTime-minute": "5",
    }
    assert forms.form_data(asked, typed) == {"appointmentDateTime": "2029-12-09T09:05:00"}


def test_errors_use_the_schema_wording_once_per_field_in_form_order():
    """The use case's field errors become one message per question, in the form's order."""
    trigger = soletojoint.definition.client_triggers["CheckTenancyBreach"]
    asked = forms.questions(trigger.form or {})
    found = forms.messages(
        asked,
        [
            FieldError("formData.br18", "This field is required."),
            FieldError("formData.br5", "This field is required."),
            FieldError("formData.br5", "another complaint"),
            FieldError("documents", "Attach one."),
        ],
    )
    assert found == {
        "br5": "Select yes or no",
        "br18": "Select yes or no",
        "documents": "Attach one.",
    }


def test_a_question_without_error_wording_gets_gov_uk_wording_from_its_label():
    """No errorMessage: "Select …" for choices, "Enter …" for text, "… must be a real date"."""
    asked = forms.questions(
        form(
            {
                "colour": {"enum": ["red", "blue"], "title": "Favourite colour"},
                "pet": {"type": "string", "title": "Name of the pet", "maxLength": 20},
                "born": {"type": "string", "format": "date", "title": "Date of birth"},
            }
        )
    )
    errors = [FieldError(f"formData.{q.name}", "This field is required.") for q in asked]
    assert forms.messages(asked, errors) == {
        "colour": "Select favourite colour",
        "pet": "Enter name of the pet",
        "born": "Date of birth must be a real date",
    }
