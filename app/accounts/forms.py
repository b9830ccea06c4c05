"""Forms for logging in and changing credentials. Labels are lazily translated; no queries here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

PIN = Regexp(r"^[0-9]{4}$", message=_l("The PIN is exactly four digits."))
PATRON_PASSWORD = Regexp(r"^[A-Za-z0-9ÅÄÖåäö]{5,12}$",
                         message=_l("The password is 5–12 letters or digits."))
REQUIRED = DataRequired(message=_l("This field is required."))


class PatronLoginForm(FlaskForm):
    card_number = StringField(_l("Library card number"), [REQUIRED, Length(max=20)],
                              description=_l("The number on your library card, without spaces."))
    secret = PasswordField(_l("PIN or password"), [REQUIRED, Length(max=64)],
                           description=_l("Your 4-digit PIN or your 5–12 character password."))


class StaffLoginForm(FlaskForm):
    email = EmailField(_l("Email address"), [REQUIRED, Length(max=254)])
    password = PasswordField(_l("Password"), [REQUIRED, Length(max=200)])


class ChangePinForm(FlaskForm):
    current = PasswordField(_l("Current PIN or password"), [REQUIRED])
    pin = PasswordField(_l("New PIN"), [REQUIRED, PIN], description=_l("Four digits."))
    pin_again = PasswordField(_l("New PIN again"),
                              [REQUIRED, EqualTo("pin", message=_l("The two PINs differ."))])


class ChangePatronPasswordForm(FlaskForm):
    current = PasswordField(_l("Current PIN or password"), [REQUIRED])
    password = PasswordField(_l("New password"), [REQUIRED, PATRON_PASSWORD],
                             description=_l("5–12 letters or digits."))
    password_again = PasswordField(_l("New password again"),
                                   [REQUIRED, EqualTo("password", message=_l("The two passwords differ."))])


class ChangeStaffPasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), [REQUIRED])
    password = PasswordField(_l("New password"),
                             [REQUIRED, Length(min=10, message=_l("At least 10 characters."))],
                             description=_l("At least 10 characters."))
    password_again = PasswordField(_l("New password again"),
                                   [REQUIRED, EqualTo("password", message=_l("The two passwords differ."))])


class ResetRequestForm(FlaskForm):
    identifier = StringField(_l("Library card number or email address"), [REQUIRED, Length(max=254)],
                             description=_l("We send a one-time link to the email address on the account."))


class SetPinForm(FlaskForm):
    pin = PasswordField(_l("New PIN"), [REQUIRED, PIN], description=_l("Four digits."))
    pin_again = PasswordField(_l("New PIN again"),
                              [REQUIRED, EqualTo("pin", message=_l("The two PINs differ."))])


class SetStaffPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"),
                             [REQUIRED, Length(min=10, message=_l("At least 10 characters."))])
    password_again = PasswordField(_l("New password again"),
                                   [REQUIRED, EqualTo("password", message=_l("The two passwords differ."))])


class SetPatronPasswordForm(FlaskForm):
    """Institution accounts log in with card number and password (5–12 letters or digits)."""

    password = PasswordField(_l("New password"), [REQUIRED, PATRON_PASSWORD],
                             description=_l("5–12 letters or digits."))
    password_again = PasswordField(_l("New password again"),
                                   [REQUIRED, EqualTo("password", message=_l("The two passwords differ."))])


class DeskPinForm(FlaskForm):
    """At the desk, with the patron present and identified, a librarian sets a new PIN [001]."""

    card_number = StringField(_l("Library card number"), [REQUIRED, Length(max=20)])
    identity_checked = BooleanField(_l("I have checked the patron's identity document"),
                                    [DataRequired(message=_l("Check the patron's ID first."))])
    pin = PasswordField(_l("New PIN"), [REQUIRED, PIN], description=_l("The patron types it; four digits."))
    pin_again = PasswordField(_l("New PIN again"),
                              [REQUIRED, EqualTo("pin", message=_l("The two PINs differ."))])


class TotpCodeForm(FlaskForm):
    """The six digits of the authenticator app (second step of a staff login, and enrolment)."""

    code = StringField(_l("Code from the authenticator app"), [REQUIRED, Length(max=10)],
                       description=_l("Six digits; a new code appears every 30 seconds."))
