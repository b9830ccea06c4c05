"""Forms of the admin pages (users, libraries, outbox, jobs). Labels are lazily translated; no queries here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.accounts.models import ROLES

REQUIRED = DataRequired(message=_l("This field is required."))
LANGUAGES = [SelectChoice("fi", "suomi"), SelectChoice("sv", "svenska"), SelectChoice("en", "English")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def role_choices() -> list[SelectChoice]:
    from app.accounts.auth import ROLE_LABELS

    return [SelectChoice(r, str(ROLE_LABELS.get(r, r))) for r in ROLES]


class NewStaffForm(FlaskForm):
    email = EmailField(_l("Email address"), [REQUIRED, Length(max=254),
                                             Email(message=_l("Enter an email address like name@example.fi."),
                                                   check_deliverability=False)],
                       description=_l("The new user gets a one-time link to this address to set a password."))
    name = StringField(_l("Full name"), [REQUIRED, Length(max=200)])
    library = SelectField(_l("Library"), choices=[], validate_choice=True,
                          description=_l("The member library the user works for (librarians)."))
    language = SelectField(_l("Language of the emails"), choices=LANGUAGES)
    roles = MultiCheckboxField(_l("Roles"), choices=[])

    def __init__(self, *args: object, libraries: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.library.choices = [SelectChoice("", str(_l("No library")))] + [
            SelectChoice(value, label) for value, label in libraries or []]
        self.roles.choices = role_choices()


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.roles.choices = role_choices()


class ActionForm(FlaskForm):
    """A form of just a button (disable, enable, revoke, reset, retry, cancel, run now): CSRF only."""


class LibraryForm(FlaskForm):
    code = StringField(_l("Code"), [REQUIRED, Length(max=40)],
                       description=_l("A short, permanent identifier, for example helmet-helsinki."))
    name = StringField(_l("Name"), [REQUIRED, Length(max=200)])
    municipality = StringField(_l("Municipality"), [Length(max=100)])


class RenameLibraryForm(FlaskForm):
    name = StringField(_l("Name"), [REQUIRED, Length(max=200)])
    municipality = StringField(_l("Municipality"), [Length(max=100)])
