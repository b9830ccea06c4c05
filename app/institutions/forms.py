"""Forms of the institution pages. The rules themselves are in validation.py (shared with the API)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FileField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.institutions.texts import TYPE_LABELS, field_error

REQUIRED_TEXT = DataRequired(message=_l("This field is required."))
CONSENT_TEXT = _l("I confirm that the responsible person named above has agreed in writing to be the responsible "
                  "person of this institution's library account: they answer for the material borrowed with its "
                  "card and for renewing and returning it. They are an adult and not under a borrowing ban "
                  "because of billing or collection.")


class Required:
    """Marks a field as required (label and the HTML attribute); the check itself is validation.py's."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


# Form field → API field, so one set of error codes serves both.
API_NAMES = {"rp_given_names": "responsible_person.given_names", "rp_surname": "responsible_person.surname",
             "rp_national_id": "responsible_person.national_id", "rp_email": "responsible_person.email",
             "rp_phone": "responsible_person.phone"}


class ApplicationForm(FlaskForm):
    name = StringField(_l("Name of the institution"), [Required(), Length(max=200)])
    type = RadioField(_l("Type of institution"), [Required()], choices=[SelectChoice(code, label) for code, label in TYPE_LABELS.items()],
                      validate_choice=False)
    business_id = StringField(_l("Business ID (Y-tunnus)"), [Required()],
                              description=_l("Seven digits, a hyphen and a check digit, for example 1234567-8."))
    street_address = StringField(_l("Street address"), [Required(), Length(max=200)])
    postal_code = StringField(_l("Postal code"), [Required()], description=_l("Five digits, for example 00100."))
    city = StringField(_l("Town or city"), [Required(), Length(max=100)])
    email = EmailField(_l("Email address of the institution"), [Required()],
                       description=_l("We send the link to follow the application, and later the library card "
                                      "number and password link, to this address."))
    phone = TelField(_l("Phone number of the institution"), [Required()])
    rp_given_names = StringField(_l("Given names"), [Required(), Length(max=100)])
    rp_surname = StringField(_l("Surname"), [Required(), Length(max=100)])
    rp_national_id = StringField(
        _l("Personal identity code"), [Required()],
        description=_l("For example 010190-123A. We check from it that the responsible person is an adult. It is "
                       "stored only in a protected form and never shown in full."))
    rp_email = EmailField(_l("Email address of the responsible person"), [Required()])
    rp_phone = TelField(_l("Phone number of the responsible person (optional)"))
    consent = BooleanField(CONSENT_TEXT, [Required()])
    document = FileField(_l("Signed consent document (optional)"),
                         description=_l("A scan or photo of the signed consent: PDF, JPEG or PNG, at most 10 MB."))

    def application_data(self) -> dict[str, Any]:
        """The fields in the shape the JSON API takes."""
        data: dict[str, Any] = {k: self[k].data for k in ("name", "type", "business_id", "street_address",
                                                           "postal_code", "city", "email", "phone")}
        data["responsible_person"] = {api.split(".")[1]: self[form].data for form, api in API_NAMES.items()}
        data["consent"] = bool(self.consent.data)
        return data

    def show_errors(self, errors: dict[str, list[str]]) -> None:
        by_api = {v: k for k, v in API_NAMES.items()}
        for api_name, codes in errors.items():
            self[by_api.get(api_name, api_name)].errors = [field_error(c) for c in codes]


def _optional_int(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) <= 9 else None


class ReplyForm(FlaskForm):
    """An admin's canned reply: which form it belongs to, its title for reviewers, and its texts."""

    kind = RadioField(_l("Used when"), choices=[SelectChoice("question", _l("asking the applicant for information")),
                                                SelectChoice("rejection", _l("rejecting an application"))],
                      validators=[DataRequired(message=_l("This field is required."))])
    title = StringField(_l("Title shown to reviewers"), [REQUIRED_TEXT, Length(max=120)])
    text_fi = TextAreaField(_l("Text in Finnish"), [REQUIRED_TEXT, Length(max=5000)])
    text_sv = TextAreaField(_l("Text in Swedish"), [Length(max=5000)],
                            description=_l("Empty: Swedish-speaking applicants get the Finnish text."))
    text_en = TextAreaField(_l("Text in English"), [Length(max=5000)],
                            description=_l("Empty: English-speaking applicants get the Finnish text."))
    active = BooleanField(_l("In use"), default=True)


class AnswerForm(FlaskForm):
    message = TextAreaField(_l("Your answer"), [REQUIRED_TEXT, Length(max=5000)])
    document = FileField(_l("Attach a document (optional)"),
                         description=_l("For example the signed consent: PDF, JPEG or PNG, at most 10 MB."))


class CannedReplyField(SelectField):
    """The canned replies of one kind (choices filled by the view); picking one with an empty text box sends
    it in the applicant's language, and with JavaScript it fills the box to be edited first."""

    def pre_validate(self, form: Any) -> None:  # an unknown or retired id just means "none"
        return None


class InformationRequestForm(FlaskForm):
    reply = CannedReplyField(_l("Canned question (optional)"), coerce=_optional_int, validate_choice=False,
                             choices=[])
    message = TextAreaField(_l("Question to the applicant"), [REQUIRED_TEXT, Length(max=5000)],
                            description=_l("Sent by email. The application waits, and its clock stops, until "
                                           "the applicant answers."))


class RejectForm(FlaskForm):
    reply = CannedReplyField(_l("Canned reason (optional)"), coerce=_optional_int, validate_choice=False,
                             choices=[])
    reason = TextAreaField(_l("Reason for the rejection"), [REQUIRED_TEXT, Length(max=5000)],
                           description=_l("Sent to the applicant by email."))
