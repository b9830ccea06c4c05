"""Forms of the library-card and loan-history pages (patron) and of the desk's new-card form. No queries."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

CARD_NUMBER = Regexp(r"^[0-9A-Za-z]{1,20}$", message=_l("A card number has only letters and digits, at most 20."))


class CardLostForm(FlaskForm):
    confirm = BooleanField(_l("Yes, the card is lost: block it now"),
                           [DataRequired(message=_l("Tick the box to confirm that the card is lost."))])


class HistorySettingForm(FlaskForm):
    keep = RadioField(_l("Keep my loan history"), choices=[("on", _l("Yes, keep a list of what I return")),
                                                           ("off", _l("No, keep nothing (the default)"))],
                      validators=[DataRequired(message=_l("Choose yes or no."))])


class DeleteHistoryForm(FlaskForm):
    confirm = BooleanField(_l("Yes, delete my whole loan history"),
                           [DataRequired(message=_l("Tick the box to confirm the deletion."))])


class IssueCardForm(FlaskForm):
    """The desk: a new card, replacing one of the account's cards or in addition to them."""

    replaces = SelectField(_l("The new card"), coerce=int, validate_choice=True)
    old_card_lost = BooleanField(_l("The old card was lost (not just worn out or broken)"))
    number = StringField(_l("Number of the new card"), [Optional(), Length(max=20), CARD_NUMBER],
                         description=_l("Scan the new card. Leave empty to give the next free number."))
    charge_fee = BooleanField(_l("Charge the replacement-card fee"), default=True)
