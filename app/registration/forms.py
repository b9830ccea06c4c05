"""The librarian's registration form and the search forms. Labels lazily translated; no queries.

The fields carry no validators of their own: the rules live in app/registration/validation.py (shared
with the JSON API) and the view puts their messages next to the fields. ``RequiredMark`` only marks a
field as required for the label.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from app.registration.messages import ELIGIBILITY_LABELS, FORMAT_LABELS, LANGUAGE_LABELS, messages
from app.registration.models import ELIGIBILITY_BASES, FORMATS, LANGUAGES


class RequiredMark:
    """Shows "(required)" at the label; the check itself is in validation.py."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


REQUIRED = [RequiredMark()]


class ShowsValidationErrors:
    def show_errors(self, errors: dict[str, list[str]]) -> None:
        """Field errors from validation next to their fields; the identity code is never echoed back."""
        for name, texts in messages(errors).items():
            self._fields[name].errors = list(texts)  # type: ignore[attr-defined]
        self.national_id.data = ""  # type: ignore[attr-defined]


class RegistrationForm(ShowsValidationErrors, FlaskForm):
    given_names = StringField(_l("Given names"), REQUIRED)
    surname = StringField(_l("Surname"), REQUIRED)
    national_id = StringField(_l("Personal identity code"), REQUIRED, description=_l(
        "11 characters, for example DDMMYY-NNNX. The century sign (+, -, A–F, U–Y) is kept as given. "
        "For privacy the code is not shown again after sending: if the form has errors, enter it again."))
    email = EmailField(_l("Email address"), REQUIRED,
                       description=_l("The card number and a link to set a PIN are sent here, once."))
    phone = TelField(_l("Phone number (optional)"))
    street_address = StringField(_l("Street address"), REQUIRED)
    postal_code = StringField(_l("Postal code"), REQUIRED, description=_l("Five digits."))
    city = StringField(_l("Post office (city)"), REQUIRED)
    language = RadioField(_l("Language of service"), REQUIRED, default="fi", validate_choice=False,
                          choices=[SelectChoice(code, LANGUAGE_LABELS[code]) for code in LANGUAGES])
    eligibility_basis = RadioField(_l("Basis of eligibility"), REQUIRED, validate_choice=False, description=_l(
        "Why the patron cannot read printed text. The patron's own statement (for example by phone) is enough."),
        choices=[SelectChoice(code, ELIGIBILITY_LABELS[code]) for code in ELIGIBILITY_BASES])
    eligibility_note = TextAreaField(_l("Notes on eligibility (optional)"))
    preferred_formats = MultiCheckboxField(_l("Preferred formats (optional)"), validate_choice=False,
                                           choices=[SelectChoice(code, FORMAT_LABELS[code]) for code in FORMATS])
    guardian_name = StringField(_l("Guardian's name"),
                                description=_l("Required when the patron is under 15."))
    guardian_contact = StringField(_l("Guardian's phone number or email address"),
                                   description=_l("Required when the patron is under 15."))
    guardian_consent = BooleanField(_l("The guardian consents to the registration"),
                                    description=_l("Required when the patron is under 15."))

    def submitted_values(self) -> dict[str, Any]:
        return {name: f.data for name, f in self._fields.items() if name != "csrf_token"}


class IdentityCodeSearchForm(ShowsValidationErrors, FlaskForm):
    national_id = StringField(_l("Personal identity code"), REQUIRED,
                              description=_l("Sent in the form, never in the address bar."))


class CardSearchForm(FlaskForm):
    card_number = StringField(_l("Library card number"), REQUIRED)
