"""Catalogue pages: search with facets, sorting and pages (/catalogue), a record with where its copies are
and Place a hold (/catalogue/records/<id>). Search is open to all; a hold needs a patron login."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from app import clock, db, gate
from app.accounts.auth import patron_required
from app.catalogue import service
from app.catalogue.models import Record
from app.catalogue.search import SORTS, SearchQuery
from app.circulation.api_json import REASONS
from app.errors import DomainError

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")
gate.declare(bp, "web_library")
PAGE_SIZE = 20
MATERIAL_LABELS: dict[str, Any] = {
    "book": _l("Book"), "large_print": _l("Large-print book"), "audiobook_cd": _l("Audiobook on CD"),
    "daisy": _l("DAISY audiobook"), "e_audiobook": _l("E-audiobook"), "dvd": _l("DVD"), "bluray": _l("Blu-ray"),
    "console_game": _l("Console game"), "music_cd": _l("Music CD"), "magazine": _l("Magazine"), "object": _l("Object"),
}
LANGUAGE_LABELS: dict[str, Any] = {"fin": _l("Finnish"), "swe": _l("Swedish"), "eng": _l("English"),
                                   "cze": _l("Czech"), "sme": _l("Northern Sami"), "ger": _l("German")}
LANGUAGE_TAGS = {"fin": "fi", "swe": "sv", "eng": "en", "cze": "cs", "sme": "se", "ger": "de"}
SORT_LABELS: dict[str, Any] = {"relevance": _l("Relevance"), "newest": _l("Newest first"), "title": _l("Title A–Ö")}
FILTERS = ("material_type", "language", "available_at", "years")


RECENT = "catalogue_recent_searches"
RECENT_MAX = 10


class HoldForm(FlaskForm):
    pickup_branch = SelectField(_l("Pickup branch"), choices=[])


class ClearRecentForm(FlaskForm):
    pass


def _remember(text: str) -> list[str]:
    """The session's recent searches, newest first (this one added); kept in the session cookie only."""
    recent = [t for t in session.get(RECENT, []) if isinstance(t, str)][:RECENT_MAX]
    if text:
        recent = [text] + [t for t in recent if t != text]
        session[RECENT] = recent[:RECENT_MAX]
    return recent[:RECENT_MAX]


def _text_arg(name: str, limit: int) -> str:
    value = request.args.get(name, "")
    return "".join(ch for ch in value if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)[:limit].strip()


def _page() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), 10_000) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


def _url(**changes: Any) -> str:
    args = {k: v for k, v in request.args.items() if k in FILTERS + ("q", "sort", "page")}
    args.update({k: v for k, v in changes.items()})
    args = {k: v for k, v in args.items() if v not in ("", None)}
    return url_for("catalogue.search") + ("?" + urlencode(args) if args else "")


@bp.get("")
@db.read_only
def search() -> Any:
    sort = request.args.get("sort", "relevance")
    q = SearchQuery(text=_text_arg("q", 200), material_type=_text_arg("material_type", 20),
                    language=_text_arg("language", 3), available_at=_text_arg("available_at", 40),
                    years=_text_arg("years", 9), sort=sort if sort in SORTS else "relevance", page=_page(),
                    per_page=PAGE_SIZE)
    recent = _remember(q.text[:100])
    searched = bool(q.text or any(getattr(q, f) for f in FILTERS))
    result = service.search(db.session(), q)
    records = service.records_by_id(db.session(), result.ids)
    where = service.availability(db.session(), records, clock.now())
    pages = max(1, -(-result.total // PAGE_SIZE))
    return render_template("catalogue/search.html", q=q, result=result, records=records, where=where, pages=pages,
                           searched=searched, url=_url, labels=MATERIAL_LABELS, language_labels=LANGUAGE_LABELS,
                           sort_labels=SORT_LABELS, filters=FILTERS, language_tags=LANGUAGE_TAGS, recent=recent,
                           clear_form=ClearRecentForm())


@bp.post("/recent-searches/clear")
def clear_recent() -> Any:
    if ClearRecentForm().validate_on_submit():
        session.pop(RECENT, None)
        flash(_("Your recent searches were cleared."), "success")
    return redirect(url_for("catalogue.search"))


def _hold_form(record: Record) -> HoldForm | None:
    if not current_user.is_authenticated or current_user.is_staff or record.source != "marc":
        return None
    branches, home = service.pickup_branches(db.session(), record, current_user.id)
    if not branches:
        return None
    form = HoldForm()
    form.pickup_branch.choices = [(b.code, b.name) for b in branches]
    if not form.is_submitted():
        form.pickup_branch.data = next((b.code for b in branches if b.id == home), branches[0].code)
    return form


@bp.get("/records/<int:record_id>")
@db.read_only
def record(record_id: int) -> Any:
    s = db.session()
    found = service.get_record(s, record_id)
    availability = service.availability(s, [found], clock.now())[found.id]
    return render_template("catalogue/record.html", record=found, a=availability, form=_hold_form(found),
                           labels=MATERIAL_LABELS, language_labels=LANGUAGE_LABELS, language_tags=LANGUAGE_TAGS)


@bp.post("/records/<int:record_id>/hold")
@patron_required
def place_hold(record_id: int) -> Any:
    s = db.session()
    found = service.get_record(s, record_id)
    form = _hold_form(found)
    if form is None:
        flash(_("This title cannot be reserved here."), "error")
        return redirect(url_for("catalogue.record", record_id=record_id))
    if not form.validate_on_submit():
        flash(_("Choose a pickup branch from the list."), "error")
        return redirect(url_for("catalogue.record", record_id=record_id))
    try:
        result = service.place_hold(s, record_id=record_id, patron_id=current_user.id,
                                    pickup_branch=form.pickup_branch.data, now=clock.now(), actor=current_user)
    except DomainError as err:
        s.rollback()
        flash(_("The hold could not be placed: no copy of this title can be reserved.")
              if err.status == 404 else _("The hold could not be placed."), "error")
        return redirect(url_for("catalogue.record", record_id=record_id))
    if result.hold is None:
        s.rollback()
        reason = result.decision.reason or ""
        flash(_("The hold could not be placed: %(reason)s", reason=str(REASONS.get(reason, reason))), "error")
        return redirect(url_for("catalogue.record", record_id=record_id))
    s.commit()
    position = result.decision.details.get("queue_position")
    if result.hold.state == "in_transit":
        flash(_("Hold placed. A copy is on its way to %(branch)s.", branch=dict(form.pickup_branch.choices)
                .get(form.pickup_branch.data, "")), "success")
    elif position:
        flash(_("Hold placed. You are number %(number)d in the queue.", number=position), "success")
    else:
        flash(_("Hold placed."), "success")
    return redirect(url_for("catalogue.record", record_id=record_id))
