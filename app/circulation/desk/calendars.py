"""Branch calendars at the desk (``/staff/desk/calendars``): per branch the opening hours per weekday, the
exceptional hours and closed days (loans never fall due on a closed day: the core's calendar moves a due
date forward), the self-service hours [001], and public holidays imported from the ``holidays`` package as
closed days (idempotent: an import that finds nothing new changes nothing).

A calendar is a history of versions that are never edited (``app/circulation/calendar.py``): a change is a
new version in force from a later day, so due dates already given stay true. Everyone at the desk sees the
calendars; a circulation supervisor changes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import holidays
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app import audit, clock, db
from app.accounts.auth import staff_required
from app.circulation import service
from app.circulation.calendar import WEEKDAY_NAMES, OpeningHours
from app.circulation.desk.ops_common import (
    DESK_ROLES,
    SUPERVISOR_ROLE,
    branches,
    desk_branch,
    is_supervisor,
    staff,
    storable,
)
from app.circulation.models import Branch, CalendarVersionRow, CircLibrary
from app.circulation.service_common import local_today
from app.circulation.service_selfservice import set_branch_self_service
from app.circulation.sip2.models import SelfServiceBranch
from app.errors import DomainError
from app.navigation import StaffLink, add_staff_link

COUNTRIES = {"FI": _l("Finland"), "CZ": _l("Czechia"), "SE": _l("Sweden"), "EE": _l("Estonia")}
COUNTRY_OF_ZONE = {"Europe/Helsinki": "FI", "Europe/Prague": "CZ", "Europe/Stockholm": "SE", "Europe/Tallinn": "EE"}
WEEKDAY_LABELS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
                  _l("Sunday"))
MAX_LINES = 400

bp = Blueprint("desk_calendars", __name__, url_prefix="/staff/desk/calendars")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_staff_link(StaffLink("desk_calendars.calendars_page", _l("Branch calendars and self-service hours"),
                             DESK_ROLES))


# -- the rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionView:
    valid_from: date
    weekly: dict[str, str]
    closed_dates: list[date]
    exceptional_hours: dict[date, str]
    in_force: bool


def versions(session: Session, branch: Branch, today: date) -> list[VersionView]:
    """The branch's versions from the one in force today on (older history is not shown)."""
    rows = list(session.scalars(select(CalendarVersionRow).where(CalendarVersionRow.branch_id == branch.id)
                                .order_by(CalendarVersionRow.valid_from)))
    current = max((i for i, r in enumerate(rows) if r.valid_from <= today), default=0)
    return [VersionView(r.valid_from, dict(r.weekly), sorted(date.fromisoformat(d) for d in r.closed_dates or []),
                        {date.fromisoformat(d): h for d, h in sorted((r.exceptional_hours or {}).items())},
                        i == current)
            for i, r in enumerate(rows) if i >= current]


def earliest_start(session: Session, branch: Branch, today: date) -> date:
    """The first day a new version may start: after today and after every existing version."""
    latest = session.scalar(select(CalendarVersionRow.valid_from).where(CalendarVersionRow.branch_id == branch.id)
                            .order_by(CalendarVersionRow.valid_from.desc()).limit(1))
    start = today + timedelta(days=1)
    return max(start, latest + timedelta(days=1)) if latest is not None else today


def _latest(session: Session, branch: Branch) -> CalendarVersionRow | None:
    return session.scalar(select(CalendarVersionRow).where(CalendarVersionRow.branch_id == branch.id)
                          .order_by(CalendarVersionRow.valid_from.desc()).limit(1))


def public_holidays(country: str, year: int) -> dict[date, str]:
    """The public holidays of ``country`` in ``year`` (the ``holidays`` package), by date."""
    if country not in COUNTRIES:
        raise DomainError("unknown-country", 422, country=country)
    return {day: str(name) for day, name in sorted(holidays.country_holidays(country, years=year).items())}


def import_holidays(session: Session, branch: Branch, *, country: str, year: int, now: datetime,
                    actor: Any) -> list[date]:
    """Close the branch on the public holidays of ``year`` that are still ahead and not yet closed days of
    its latest version: one new version (from the earliest day allowed) carrying them. Importing again
    finds nothing new and adds nothing. Returns the dates closed."""
    today = local_today(branch.timezone, now)
    latest = _latest(session, branch)
    if latest is None:
        raise DomainError("calendar-missing", 409, branch=branch.code)
    start = earliest_start(session, branch, today)
    closed = set(latest.closed_dates or [])
    new = [day for day in public_holidays(country, year) if day >= start and day.isoformat() not in closed]
    if not new:
        return []
    exceptions = {date.fromisoformat(d): h for d, h in (latest.exceptional_hours or {}).items()
                  if d not in {n.isoformat() for n in new}}
    service.add_calendar_version(session, branch_id=branch.id, valid_from=start, weekly=dict(latest.weekly),
                                 closed_dates=[date.fromisoformat(d) for d in closed] + new,
                                 exceptional_hours={d: h for d, h in exceptions.items()}, now=now, actor=actor)
    audit.record(session, actor=actor, action="circulation.holidays_imported", now=now, record_type="circ_branch",
                 record_id=branch.id, country=country, year=year, days=len(new))
    return new


# -- forms ------------------------------------------------------------------------------------------


def _hours(_form: Any, field: Any) -> None:
    if field.data and field.data.strip():
        try:
            OpeningHours.parse(field.data)
        except ValueError:
            raise ValidationError(_l("Give the hours as 10:00-19:00, or leave empty for closed.")) from None


def parse_dates(text: str) -> list[date]:
    out = []
    for line in [line.strip() for line in (text or "").splitlines() if line.strip()][:MAX_LINES]:
        out.append(date.fromisoformat(line))
    return out


def parse_exceptions(text: str) -> dict[date, str]:
    out: dict[date, str] = {}
    for line in [line.strip() for line in (text or "").splitlines() if line.strip()][:MAX_LINES]:
        day, _sep, hours = line.partition(" ")
        OpeningHours.parse(hours)
        out[date.fromisoformat(day)] = hours.strip()
    return out


def _dates(_form: Any, field: Any) -> None:
    try:
        parse_dates(field.data)
    except ValueError:
        raise ValidationError(_l("One date a line, as 2026-12-24.")) from None


def _exceptions(_form: Any, field: Any) -> None:
    try:
        parse_exceptions(field.data)
    except ValueError:
        raise ValidationError(_l("One day a line, as 2026-12-23 10:00-15:00.")) from None


class VersionForm(FlaskForm):
    valid_from = DateField(_l("In force from"), [DataRequired(message=_l("This field is required."))],
                           description=_l("A change starts on a later day; loans already made keep their due dates."))
    mon = StringField(WEEKDAY_LABELS[0], [Optional(), Length(max=20), _hours])
    tue = StringField(WEEKDAY_LABELS[1], [Optional(), Length(max=20), _hours])
    wed = StringField(WEEKDAY_LABELS[2], [Optional(), Length(max=20), _hours])
    thu = StringField(WEEKDAY_LABELS[3], [Optional(), Length(max=20), _hours])
    fri = StringField(WEEKDAY_LABELS[4], [Optional(), Length(max=20), _hours])
    sat = StringField(WEEKDAY_LABELS[5], [Optional(), Length(max=20), _hours])
    sun = StringField(WEEKDAY_LABELS[6], [Optional(), Length(max=20), _hours])
    closed_dates = TextAreaField(_l("Closed days"), [Optional(), Length(max=6000), storable, _dates],
                                 description=_l("One date a line (2026-12-24). Loans never fall due on a closed day."))
    exceptional_hours = TextAreaField(_l("Exceptional hours"), [Optional(), Length(max=12000), storable, _exceptions],
                                      description=_l("One day a line with its hours: 2026-12-23 10:00-15:00."))


class HolidaysForm(FlaskForm):
    country = SelectField(_l("Country"), choices=list(COUNTRIES.items()))
    year = IntegerField(_l("Year"), [DataRequired(message=_l("This field is required.")),
                                     NumberRange(min=2000, max=2100, message=_l("Give a year between 2000 and 2100."))])


class SelfServiceForm(FlaskForm):
    enabled = BooleanField(_l("Open to self-service with card and PIN"))
    opens = StringField(_l("Self-service opens"), [DataRequired(message=_l("This field is required.")),
                                                  Length(max=5)], description=_l("Local time, e.g. 07:00."))
    closes = StringField(_l("Self-service closes"), [DataRequired(message=_l("This field is required.")),
                                                    Length(max=5)], description=_l("Local time, e.g. 22:00."))
    requires_activation = BooleanField(_l("Patrons must be activated at the desk first"))
    minimum_age = IntegerField(_l("Minimum age without a guardian's consent"),
                               [DataRequired(message=_l("This field is required.")), NumberRange(min=0, max=120)])


# -- pages ------------------------------------------------------------------------------------------


def _branch_of(branch_id: int | None) -> Branch:
    allowed = branches()
    if branch_id is None:
        here = desk_branch()
        chosen = here if here is not None and any(b.id == here.id for b in allowed) else (allowed[0] if allowed else None)
    else:
        chosen = next((b for b in allowed if b.id == branch_id), None)
    if chosen is None:
        abort(404)
    return chosen


def _branch_arg() -> int | None:
    value = request.values.get("branch", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        abort(404)
    return int(value)


def _render(branch: Branch, *, version_form: VersionForm | None = None, holidays_form: HolidaysForm | None = None,
            selfservice_form: SelfServiceForm | None = None, code: int = 200) -> Any:
    session = db.session()
    today = local_today(branch.timezone, clock.now())
    shown = versions(session, branch, today)
    start = earliest_start(session, branch, today)
    if version_form is None:
        last = shown[-1] if shown else None
        version_form = VersionForm(formdata=None, valid_from=start, **{
            name: (last.weekly.get(name, "") if last else "") for name in WEEKDAY_NAMES},
            closed_dates="\n".join(d.isoformat() for d in (last.closed_dates if last else []) if d >= start),
            exceptional_hours="\n".join(f"{d.isoformat()} {h}" for d, h in (last.exceptional_hours.items() if last else [])
                                        if d >= start))
    holidays_form = holidays_form or HolidaysForm(formdata=None, country=COUNTRY_OF_ZONE.get(branch.timezone, "FI"),
                                                  year=today.year + (1 if today.month >= 10 else 0))
    row = session.get(SelfServiceBranch, branch.id)
    selfservice_form = selfservice_form or SelfServiceForm(
        formdata=None, enabled=row.enabled if row else False, opens=row.opens if row else "07:00",
        closes=row.closes if row else "22:00", requires_activation=row.requires_activation if row else False,
        minimum_age=row.minimum_age if row else 15)
    all_branches = branches()
    here = desk_branch()
    session.commit()
    return render_template("desk/calendars/index.html", branch=here, shown_branch=branch, branches=all_branches,
                           versions=shown, weekdays=list(zip(WEEKDAY_NAMES, WEEKDAY_LABELS, strict=True)),
                           version_form=version_form, holidays_form=holidays_form, selfservice_form=selfservice_form,
                           selfservice=row, earliest=start, may_change=is_supervisor(), today=today), code


@bp.get("")
@db.read_only
@staff_required(*DESK_ROLES)
def calendars_page() -> Any:
    return _render(_branch_of(_branch_arg()))


@bp.post("/<int:branch_id>/version")
@staff_required(SUPERVISOR_ROLE)
def add_version(branch_id: int) -> Any:
    branch = _branch_of(branch_id)
    form = VersionForm()
    if not form.validate():
        return _render(branch, version_form=form, code=422)
    try:
        service.add_calendar_version(
            db.session(), branch_id=branch.id, valid_from=form.valid_from.data,
            weekly={name: getattr(form, name).data.strip() for name in WEEKDAY_NAMES if getattr(form, name).data.strip()},
            closed_dates=parse_dates(form.closed_dates.data), exceptional_hours=parse_exceptions(form.exceptional_hours.data),
            now=clock.now(), actor=staff())
    except DomainError:
        db.session().rollback()
        form.valid_from.errors = [*form.valid_from.errors, _(
            "The new hours must start after today and after the latest version, and a day cannot be both closed "
            "and have exceptional hours.")]
        return _render(branch, version_form=form, code=422)
    db.session().commit()
    flash(_("The new opening hours of %(branch)s are in force from %(day)s.", branch=branch.name,
            day=form.valid_from.data.isoformat()), "success")
    return redirect(url_for("desk_calendars.calendars_page", branch=branch.id))


@bp.post("/<int:branch_id>/holidays")
@staff_required(SUPERVISOR_ROLE)
def holidays_import(branch_id: int) -> Any:
    branch = _branch_of(branch_id)
    form = HolidaysForm()
    if not form.validate():
        return _render(branch, holidays_form=form, code=422)
    added = import_holidays(db.session(), branch, country=form.country.data, year=form.year.data, now=clock.now(),
                            actor=staff())
    db.session().commit()
    if added:
        flash(_("%(count)d public holidays of %(year)d are now closed days at %(branch)s.", count=len(added),
                year=form.year.data, branch=branch.name), "success")
    else:
        flash(_("Nothing to add: the public holidays of %(year)d still ahead are already closed days.",
                year=form.year.data), "success")
    return redirect(url_for("desk_calendars.calendars_page", branch=branch.id))


@bp.post("/<int:branch_id>/self-service")
@staff_required(SUPERVISOR_ROLE)
def self_service(branch_id: int) -> Any:
    branch = _branch_of(branch_id)
    form = SelfServiceForm()
    if not form.validate():
        return _render(branch, selfservice_form=form, code=422)
    ref = _branch_ref(branch)
    try:
        set_branch_self_service(db.session(), branch=ref, opens=form.opens.data.strip(), closes=form.closes.data.strip(),
                                enabled=form.enabled.data, requires_activation=form.requires_activation.data,
                                minimum_age=form.minimum_age.data, now=clock.now(), actor=staff())
    except DomainError:
        db.session().rollback()
        form.opens.errors = [*form.opens.errors, _("Give the hours as 07:00 and 22:00, opening before closing.")]
        return _render(branch, selfservice_form=form, code=422)
    db.session().commit()
    flash(_("The self-service hours of %(branch)s are saved.", branch=branch.name), "success")
    return redirect(url_for("desk_calendars.calendars_page", branch=branch.id))


def _branch_ref(branch: Branch) -> str:
    library = db.session().get(CircLibrary, branch.library_id)
    assert library is not None
    return f"{library.code}/{branch.code}"
