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
from wtforms import HiddenField, SelectField

from app import clock, db, gate
from app.accounts.auth import patron_required
from app.catalogue import alerts, lists, service
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
FILTERS = ("material_type", "language", "available_at", "years", "age_rating")
QUERY_FIELDS = ("q",) + FILTERS


RECENT = "catalogue_recent_searches"
RECENT_MAX = 10


class HoldForm(FlaskForm):
    pickup_branch = SelectField(_l("Pickup branch"), choices=[])


class ClearRecentForm(FlaskForm):
    pass


class DeleteRecentForm(FlaskForm):
    search = HiddenField()


def query_string(query: dict[str, str]) -> str:
    """A search's canonical query string (what identifies it in the recent list)."""
    return urlencode([(k, query[k]) for k in QUERY_FIELDS if query.get(k)])


def _recent() -> list[dict[str, str]]:
    """The session's recent searches, newest first: each the search's arguments (text and facets)."""
    out: list[dict[str, str]] = []
    for entry in session.get(RECENT, []):
        if isinstance(entry, str):  # written before searches kept their facets
            entry = {"q": entry}
        if isinstance(entry, dict):
            query = alerts.normalise_query(entry)
            if query and query not in out:
                out.append(query)
    return out[:RECENT_MAX]


def _remember(query: dict[str, str]) -> list[dict[str, str]]:
    """Add this search to the session's recent searches (kept in the session cookie only)."""
    recent = _recent()
    if query:
        recent = [query] + [r for r in recent if r != query]
        session[RECENT] = recent[:RECENT_MAX]
    return recent[:RECENT_MAX]


def describe(query: dict[str, Any]) -> str:
    """A saved or recent search in words: “text” · Material type: DVD · Language: Finnish …"""
    parts = [f"“{query['q']}”"] if query.get("q") else []
    if query.get("material_type"):
        parts.append(_("Material type: %(value)s", value=str(MATERIAL_LABELS.get(query["material_type"],
                                                                                 query["material_type"]))))
    if query.get("language"):
        parts.append(_("Language: %(value)s", value=str(LANGUAGE_LABELS.get(query["language"], query["language"]))))
    if query.get("years"):
        parts.append(_("Year: %(value)s", value=query["years"]))
    if query.get("available_at"):
        parts.append(_("On the shelf now at: %(value)s", value=query["available_at"]))
    if str(query.get("age_rating", "")).isdigit():
        parts.append(_("Age limit %(age)s or lower", age=query["age_rating"]))
    return " · ".join(parts) or _("All records")


def _text_arg(name: str, limit: int) -> str:
    value = request.args.get(name, "")
    return "".join(ch for ch in value if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)[:limit].strip()


def _age_arg() -> int | None:
    raw = request.args.get("age_rating", "")
    return int(raw) if raw.isdigit() and len(raw) <= 2 else None


def _page() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), 10_000) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


def _url(**changes: Any) -> str:
    args = {k: v for k, v in request.args.items() if k in FILTERS + ("q", "sort", "page")}
    args.update({k: v for k, v in changes.items()})
    args = {k: v for k, v in args.items() if v not in ("", None)}
    return url_for("catalogue.search") + ("?" + urlencode(args) if args else "")


def age_facet(result: Any) -> list[tuple[str, int]]:
    """The age-limit facet as the filter reads it (“age limit N or lower”, unrated records included): for
    each rating among the results, how many results a limit there leaves."""
    rated = result.facets.get("age_rating", [])
    if not rated:
        return []
    unrated = result.total - sum(count for _value, count in rated)
    out, running = [], unrated
    for value, count in rated:
        running += count
        out.append((value, running))
    return out


def is_patron() -> bool:
    return bool(current_user.is_authenticated and not getattr(current_user, "is_staff", True))


@bp.get("")
@db.read_only
def search() -> Any:
    sort = request.args.get("sort", "relevance")
    q = SearchQuery(text=_text_arg("q", 200), material_type=_text_arg("material_type", 20),
                    language=_text_arg("language", 3), available_at=_text_arg("available_at", 40),
                    years=_text_arg("years", 9), age_rating=_age_arg(), sort=sort if sort in SORTS else "relevance",
                    page=_page(), per_page=PAGE_SIZE)
    query = alerts.normalise_query({"q": q.text[:100], "material_type": q.material_type, "language": q.language,
                                    "available_at": q.available_at, "years": q.years,
                                    "age_rating": "" if q.age_rating is None else str(q.age_rating)})
    recent = _remember(query)
    searched = bool(query)
    result = service.search(db.session(), q)
    records = service.records_by_id(db.session(), result.ids)
    where = service.availability(db.session(), records, clock.now())
    pages = max(1, -(-result.total // PAGE_SIZE))
    favourite_lists = lists.lists_of(db.session(), current_user.id) if is_patron() else []
    return render_template("catalogue/search.html", q=q, result=result, records=records, where=where, pages=pages,
                           searched=searched, url=_url, labels=MATERIAL_LABELS, language_labels=LANGUAGE_LABELS,
                           sort_labels=SORT_LABELS, filters=FILTERS, language_tags=LANGUAGE_TAGS, recent=recent,
                           clear_form=ClearRecentForm(), delete_form=DeleteRecentForm(), describe=describe,
                           query_string=query_string, query=query, age_facet=age_facet(result),
                           patron=is_patron(), favourite_lists=favourite_lists, add_form=AddToListForm())


@bp.post("/recent-searches/clear")
def clear_recent() -> Any:
    if ClearRecentForm().validate_on_submit():
        session.pop(RECENT, None)
        flash(_("Your recent searches were cleared."), "success")
    return redirect(url_for("catalogue.search"))


@bp.post("/recent-searches/delete")
def delete_recent() -> Any:
    form = DeleteRecentForm()
    if form.validate_on_submit():
        recent = _recent()
        kept = [r for r in recent if query_string(r) != (form.search.data or "")]
        if len(kept) < len(recent):
            session[RECENT] = kept
            flash(_("The search was removed from your recent searches."), "success")
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
    favourite_lists = lists.lists_of(s, current_user.id) if is_patron() else []
    return render_template("catalogue/record.html", record=found, a=availability, form=_hold_form(found),
                           labels=MATERIAL_LABELS, language_labels=LANGUAGE_LABELS, language_tags=LANGUAGE_TAGS,
                           patron=is_patron(), favourite_lists=favourite_lists, add_form=AddToListForm())


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


from app.catalogue import alerts_views  # noqa: E402,F401
from app.catalogue.lists_views import AddToListForm  # noqa: E402  (its routes join this blueprint)


@bp.record_once
def _register_patron_api(state: Any) -> None:
    """The patron's own catalogue API (/api/v1/catalogue/me/…) comes with the catalogue's pages."""
    from app.catalogue import lists_api
    from app.security import csrf

    state.app.register_blueprint(lists_api.bp)
    csrf.exempt(lists_api.bp)  # bearer tokens; the browser session's unsafe calls are checked by api_patron_or_session
