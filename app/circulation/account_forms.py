"""Forms of the patron's circulation pages (My account). Labels are lazily translated; no queries here.
Lists of loans and holds are chosen with checkboxes named ``loan_id`` / ``hold_id`` (SelectMultipleField
with the patron's own ids as choices, set by the view)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

PHONE = Regexp(r"^\+?[0-9 ()-]{5,20}$", message=_l("A phone number such as +358 40 123 4567."))


class RenewForm(FlaskForm):
    loan_id = SelectMultipleField(_l("Loans"), coerce=int, validate_choice=True)


class HoldsForm(FlaskForm):
    hold_id = SelectMultipleField(_l("Holds"), coerce=int, validate_choice=True)


class PickupForm(FlaskForm):
    branch = SelectField(_l("New pickup branch"), validate_choice=True)


class SuspendForm(FlaskForm):
    until = DateField(_l("Paused until"), [Optional()],
                      description=_l("The hold waits again from this day. Leave empty to pause it until you "
                                     "resume it."))


class PayForm(FlaskForm):
    pass


class ContactForm(FlaskForm):
    email = EmailField(_l("Email address"), [Optional(), Email(message=_l("An email address such as name@example.fi.")),
                                             Length(max=254)])
    phone = StringField(_l("Mobile phone number"), [Optional(), PHONE, Length(max=40)],
                        description=_l("For text-message notices."))
    postal_address = TextAreaField(_l("Postal address"), [Optional(), Length(max=500)],
                                   description=_l("Street, postcode and town: letters from the library go here."))


class NoticeForm(FlaskForm):
    by_email = BooleanField(_l("By email"))
    by_sms = BooleanField(_l("By text message"))
    by_letter = BooleanField(_l("By letter"))
    advance_notice_days = IntegerField(
        _l("Due-date reminder, days before the due date"), [Optional(), NumberRange(min=1, max=7)],
        description=_l("Leave empty for no reminder."))
    receipts_by_email = BooleanField(_l("Loan and return receipts by email"))
    hold_nickname = StringField(_l("Nickname on the hold shelf"), [Optional(), Length(max=40)],
                                description=_l("Holds waiting for you are shelved under this name instead of "
                                               "your own."))


class StackRequestForm(FlaskForm):
    record_key = HiddenField(validators=[DataRequired(), Length(max=80)])
