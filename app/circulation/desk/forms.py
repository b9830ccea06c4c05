"""Forms of the circulation desk. Labels are lazily translated; no queries here."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.platform.bodies import is_storable

REQUIRED = DataRequired(message=_l("This field is required."))


def storable(_form: Any, field: Any) -> None:
    """Text a database can hold (no NUL byte, no broken characters)."""
    if isinstance(field.data, str) and not is_storable(field.data):
        raise ValidationError(_l("This field contains a character that cannot be saved."))


class LookupForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET): changes nothing

    q = StringField(_l("Card number, name, phone or email"), [REQUIRED, Length(max=200), storable],
                    description=_l("Scan the card, or type part of the name with the birth year (e.g. "
                                   "“virtanen 1956”), a phone number or an email address."))


class BranchForm(FlaskForm):
    branch = SelectField(_l("Desk branch"), coerce=int, validators=[REQUIRED])


class CheckoutForm(FlaskForm):
    barcode = StringField(_l("Item barcode"), [REQUIRED, Length(max=40), storable],
                          description=_l("Scan the item; the answer is read out below and the field stays ready "
                                         "for the next one."))
    due_on = DateField(_l("Other due date (optional)"), [Optional()],
                       description=_l("Moved to the next opening day if the branch is closed."))
    override_reason = StringField(_l("Supervisor override: reason"), [Optional(), Length(max=300), storable])


class CheckinForm(FlaskForm):
    barcode = StringField(_l("Item barcode"), [REQUIRED, Length(max=40), storable],
                          description=_l("Scan each returned item; the answer is read out below."))
    book_drop = BooleanField(_l("Book-drop mode: date returns to the branch's next opening day"))
    note = StringField(_l("Damage or missing parts (optional)"), [Optional(), Length(max=300), storable])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token (chosen rows come as checkbox lists)."""


class PaymentForm(FlaskForm):
    amount = StringField(_l("Amount to pay (optional)"), [Optional(), Length(max=20), storable],
                         description=_l("Leave empty to pay the chosen fees in full, e.g. 5.00 for a part."))
    method = RadioField(_l("Paid by"), choices=[("cash", _l("Cash")), ("card", _l("Card"))], default="cash",
                        validators=[REQUIRED])


class WriteOffForm(FlaskForm):
    reason = StringField(_l("Reason for the write-off"), [REQUIRED, Length(max=200), storable])


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Note for the desk"), [REQUIRED, Length(max=2000), storable])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ContactForm(FlaskForm):
    email = StringField(_l("Email address"), [Optional(), Length(max=254), storable,
                                              Email(message=_l("Check the email address."))])
    phone = StringField(_l("Phone"), [Optional(), Length(max=40), storable])
    postal_address = TextAreaField(_l("Postal address"), [Optional(), Length(max=500), storable])
    notice_channels = MultiCheckboxField(_l("Notices by"), choices=[
        ("email", _l("Email")), ("sms", _l("Text message")), ("letter", _l("Letter"))])
    receipts_by_email = BooleanField(_l("Loan and return receipts by email"))


class ItemStatusForm(FlaskForm):
    status = RadioField(_l("Status"), choices=[("available", _l("On the shelf")), ("lost", _l("Missing")),
                                               ("damaged", _l("Damaged")), ("withdrawn", _l("Withdrawn"))],
                        validators=[REQUIRED])


# -- the patron record --------------------------------------------------------------------------------


class RecordForm(ContactForm):
    """The whole record: the name (only with the identity-check note [001]), contact data, notices,
    category and home branch. Choices of category and branch are set by the view."""

    name = StringField(_l("Name"), [REQUIRED, Length(max=200), storable],
                       description=_l("Change the name only after checking an identity document."))
    identity_check = StringField(_l("Identity check (needed for a new name)"), [Optional(), Length(max=200),
                                                                                 storable],
                                 description=_l("E.g. “passport checked”. Never write the identity code here."))
    category = SelectField(_l("Category"), validators=[REQUIRED])
    home_branch = SelectField(_l("Home library"), coerce=int, validators=[REQUIRED])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), [REQUIRED, Length(max=200), storable])


class RevalidateForm(FlaskForm):
    note = StringField(_l("What was checked (optional)"), [Optional(), Length(max=200), storable])


class HearingForm(FlaskForm):
    held_on = DateField(_l("Day of the hearing"), [REQUIRED])
    heard_by = StringField(_l("Heard by (the official)"), [REQUIRED, Length(max=200), storable])
    summary = TextAreaField(_l("What the patron said"), [Optional(), Length(max=4000), storable])


class PremisesBanForm(FlaskForm):
    hearing = SelectField(_l("After the hearing"), coerce=int, validators=[REQUIRED])
    decided_on = DateField(_l("Day of the decision"), [REQUIRED])
    decision_maker = StringField(_l("Decided by (the official in charge)"), [REQUIRED, Length(max=200), storable])
    decision_reference = StringField(_l("Decision reference (optional)"), [Optional(), Length(max=100), storable])
    starts_on = DateField(_l("First day of the ban"), [REQUIRED])
    ends_on = DateField(_l("Last day of the ban"), [REQUIRED], description=_l("At most 30 days in all."))
    reason = TextAreaField(_l("Reason"), [REQUIRED, Length(max=2000), storable])


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount to refund (optional)"), [Optional(), Length(max=20), storable],
                         description=_l("Leave empty to refund all that is left of the payment."))
    reason = StringField(_l("Reason for the refund"), [REQUIRED, Length(max=200), storable])


class DamagedForm(FlaskForm):
    barcode = StringField(_l("Barcode of the damaged item"), [REQUIRED, Length(max=40), storable])
    amount = StringField(_l("Amount to charge (optional)"), [Optional(), Length(max=20), storable],
                         description=_l("Leave empty to charge the item's price."))
