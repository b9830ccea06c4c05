"""Forms of the status pages. Texts come in three languages (each optional, at least one required);
times are entered in the library's time zone. No queries here."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from app.gate import COMPONENTS
from app.status import labels
from app.status.models import IMPACTS, INCIDENT_STATES
from app.status.texts import LANGUAGES, component_name, component_reach

REQUIRED = DataRequired(message=_l("This field is required."))
TITLE_LABELS = {"fi": _l("Title in Finnish"), "sv": _l("Title in Swedish"), "en": _l("Title in English")}
BODY_LABELS = {"fi": _l("Text in Finnish"), "sv": _l("Text in Swedish"), "en": _l("Text in English")}


class AtLeastOne:
    """At least one box of a group ticked; sets no ``required`` flag, so no single checkbox is announced
    as required (the group's legend says it instead)."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            raise StopValidation(str(_l("Choose at least one service.")))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Helsinki"))


def to_utc(value: datetime | None) -> datetime | None:
    """A time typed in the library's time zone, as an aware UTC datetime."""
    return value.replace(tzinfo=local_zone()).astimezone(UTC) if value is not None else None


def to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(local_zone()).replace(tzinfo=None) if value is not None else None


def component_choices() -> list[SelectChoice]:
    from app.i18n import current_language

    return [SelectChoice(code, component_name(code, current_language())) for code in COMPONENTS]


def _texts(prefix: str, labels_by_language: dict[str, Any], area: bool, max_length: int) -> dict[str, Any]:
    field = TextAreaField if area else StringField
    return {f"{prefix}_{lang}": field(labels_by_language[lang], [Optional(), Length(max=max_length)])
            for lang in LANGUAGES}


class TextsForm(FlaskForm):
    """Title and text in fi/sv/en; a missing language falls back visibly to another one.

    Subclasses add the per-language fields with ``locals().update(_texts(...))`` in the class body
    (a class body's namespace is a real dict), so each form lists fi, sv and en without repetition.
    """

    def texts(self, prefix: str) -> dict[str, str]:
        return {lang: getattr(self, f"{prefix}_{lang}").data or "" for lang in LANGUAGES}

    def require_one(self, prefix: str, message: Any) -> bool:
        if any(value.strip() for value in self.texts(prefix).values()):
            return True
        getattr(self, f"{prefix}_{LANGUAGES[0]}").errors.append(message)
        return False


def _window_ok(form: Any) -> bool:
    if form.starts.data and form.ends.data and form.ends.data <= form.starts.data:
        form.ends.errors.append(_l("The end must be after the start."))
        return False
    return True


class MaintenanceForm(TextsForm):
    locals().update(_texts("title", TITLE_LABELS, False, 300))
    locals().update(_texts("body", BODY_LABELS, True, 5000))
    starts = DateTimeLocalField(_l("Starts"), [REQUIRED], format="%Y-%m-%dT%H:%M",
                                description=_l("Finnish time. The services close at this moment by themselves."))
    ends = DateTimeLocalField(_l("Expected end"), [REQUIRED], format="%Y-%m-%dT%H:%M",
                              description=_l("Finnish time. The services reopen at this moment unless you "
                                             "complete the break earlier or reschedule it."))
    # Required as a group (the fieldset says so), never ``required`` on each checkbox.
    components = MultiCheckboxField(_l("Services that close"), [AtLeastOne()], choices=[])
    reads_open = BooleanField(_l("People can still read their own data (loans, account) during the break"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.components.choices = component_choices()

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        ok = self.require_one("title", _l("Write the title in at least one language.")) and ok
        return _window_ok(self) and ok


class MaintenanceUpdateForm(TextsForm):
    locals().update(_texts("body", BODY_LABELS, True, 5000))
    verifying = BooleanField(_l("The work is done and is being verified"))

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        return self.require_one("body", _l("Write the update in at least one language.")) and ok


class RescheduleForm(TextsForm):
    locals().update(_texts("body", BODY_LABELS, True, 5000))
    starts = DateTimeLocalField(_l("New start"), [REQUIRED], format="%Y-%m-%dT%H:%M", description=_l("Finnish time."))
    ends = DateTimeLocalField(_l("New expected end"), [REQUIRED], format="%Y-%m-%dT%H:%M",
                              description=_l("Finnish time."))

    def validate(self, extra_validators: Any = None) -> bool:
        return super().validate(extra_validators) and _window_ok(self)


class CloseForm(TextsForm):
    """Cancel or complete: an optional closing text."""

    locals().update(_texts("body", BODY_LABELS, True, 5000))


def _status_choices(words: dict[str, Any], codes: Any) -> list[SelectChoice]:
    return [SelectChoice(code, words[code]) for code in codes]


class IncidentUpdateForm(TextsForm):
    locals().update(_texts("body", BODY_LABELS, True, 5000))
    status = RadioField(_l("State"), [REQUIRED], choices=_status_choices(labels.INCIDENT_STATES, INCIDENT_STATES),
                        default="investigating")
    impact = RadioField(_l("Impact"), [REQUIRED], choices=_status_choices(labels.IMPACTS, IMPACTS), default="minor")
    expected_end = DateTimeLocalField(_l("Expected end (optional)"), [Optional()], format="%Y-%m-%dT%H:%M",
                                      description=_l("Finnish time. Tells apps when to try again."))
    locals().update({f"component_{code}": SelectField(
        code, choices=_status_choices(labels.COMPONENT_STATUSES, labels.COMPONENT_STATUSES), default="operational")
        for code in COMPONENTS})

    def component_fields(self) -> list[Any]:
        return [getattr(self, f"component_{code}") for code in COMPONENTS]

    def component_statuses(self) -> dict[str, str]:
        return {code: getattr(self, f"component_{code}").data for code in COMPONENTS}

    def label_components(self, language: str) -> None:
        for code in COMPONENTS:
            select = getattr(self, f"component_{code}")
            select.label.text = component_name(code, language)
            closes, stays_open = component_reach(code, language)
            select.description = f"{_l('Closes:')} {closes} {_l('Stays open:')} {stays_open}"

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        return self.require_one("body", _l("Write the update in at least one language.")) and ok


class IncidentForm(IncidentUpdateForm):
    locals().update(_texts("title", TITLE_LABELS, False, 300))
    reads_open = BooleanField(_l("People can still read their own data (loans, account) meanwhile"))

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        return self.require_one("title", _l("Write the title in at least one language.")) and ok


class SubscribeForm(FlaskForm):
    email = EmailField(_l("Email address"), [REQUIRED, Email(message=_l("Check the email address.")),
                                             Length(max=254)])
    language = RadioField(_l("Language of the messages"), [REQUIRED],
                          choices=_status_choices(labels.LANGUAGE_LABELS, LANGUAGES))
    components = MultiCheckboxField(_l("Services"), choices=[],
                                    description=_l("Choose none to hear about every service."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.components.choices = component_choices()


class ConfirmForm(FlaskForm):
    """A button that confirms a link's action (link scanners open links; only a person presses buttons)."""
