"""Forms of the self-service pages (terminals admin, desk, My account). Labels lazily translated; no queries."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from app.circulation.desk.forms import storable
from app.circulation.service_selfservice import MIN_TERMINAL_PASSWORD

REQUIRED = DataRequired(message=_l("This field is required."))
PASSWORD = [REQUIRED, Length(min=MIN_TERMINAL_PASSWORD, max=200,
                             message=_l("The password is 10–200 characters.")), storable]


class TerminalForm(FlaskForm):
    name = StringField(_l("Terminal name"), [REQUIRED, Length(max=80), storable,
                                             Regexp(r"^[^|\r\n]+$", message=_l("The name cannot contain a | sign."))],
                       description=_l("The SIP2 login name (CN), for example kiosk-mikkeli."))
    branch = SelectField(_l("Branch"), coerce=int, validators=[REQUIRED],
                         description=_l("The branch the terminal stands at; it logs in with this branch code (CP)."))
    password = PasswordField(_l("Password"), PASSWORD,
                             description=_l("At least 10 characters. Give it to the terminal's installer only."))
    language = SelectField(_l("Language of the messages on the screen"),
                           choices=[SelectChoice("fi", "suomi"), SelectChoice("sv", "svenska"),
                                    SelectChoice("en", "English")])
    charset = SelectField(_l("Character set"), choices=[SelectChoice("utf-8", "UTF-8"), SelectChoice("cp850", "cp850")],
                          description=_l("cp850 for older machines that cannot read UTF-8."))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), PASSWORD,
                             description=_l("The old password stops working at once."))


class ActionForm(FlaskForm):
    """A form of just a button: CSRF only."""
