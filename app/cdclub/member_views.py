"""Librarian pages: a club's members, a patron's memberships, joining, pausing and leaving for a patron."""
from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from app import clock, db
from app.accounts.auth import staff_required
from app.cdclub import edge, forms, messages, service, settings
from app.cdclub.views import STAFF, bp
from app.errors import DomainError


@bp.get("/<int:club_id>/members")
@staff_required(*STAFF)
def club_members(club_id: int) -> Any:
    session = db.session()
    club = service.get_club(session, club_id)
    status = request.args.get("status", "")
    rows = service.members_of(session, club, status=status if status in ("active", "paused", "left") else None)
    outlooks = {m.id: service.member_outlook(session, m, settings.current(), clock.now()) for m, _ in rows}
    return render_template("cdclub/members.html", club=club, rows=rows, outlooks=outlooks, status=status)


@bp.get("/patrons")
@staff_required(*STAFF)
def patron_lookup() -> Any:
    form = forms.PatronLookupForm(request.args)
    patron = None
    if request.args and form.validate():
        patron = service.find_patron(db.session(), form.card.data)
        if patron is None:
            form.card.errors = [*form.card.errors, messages.text("patron-not-found")]
    return render_template("cdclub/patron_lookup.html", form=form, patron=patron,
                           **(_patron_context(patron) if patron else {}))


def _patron_context(patron: Any) -> dict[str, Any]:
    session, conf, now = db.session(), settings.current(), clock.now()
    memberships = service.memberships_of(session, patron)
    return {"memberships": memberships,
            "outlooks": {m.id: service.member_outlook(session, m, conf, now) for m in memberships},
            "clubs": [c for c in service.list_clubs(session, active_only=True)
                      if c.id not in {m.club_id for m in memberships if m.status != "left"}],
            "first_if_joining": service.first_period_for(conf, now)}


@bp.route("/patrons/<int:patron_id>/join/<int:club_id>", methods=["GET", "POST"])
@staff_required(*STAFF)
def join_for_patron(patron_id: int, club_id: int) -> Any:
    session = db.session()
    patron, club = service.get_patron(session, patron_id), service.get_club(session, club_id)
    form = edge.address_form(patron=patron)
    if form.validate_on_submit() and edge.submit_join(form, club, patron):
        return redirect(url_for("cdclub.patron_lookup", card=patron.card_number))
    return render_template("cdclub/join.html", form=form, club=club, patron=patron,
                           first=service.first_period_for(settings.current(), clock.now()),
                           cancel_url=url_for("cdclub.patron_lookup", card=patron.card_number))


@bp.route("/members/<int:member_id>/address", methods=["GET", "POST"])
@staff_required(*STAFF)
def member_address(member_id: int) -> Any:
    session = db.session()
    member = service.get_member(session, member_id)
    patron = service.get_patron(session, member.patron_id)
    form = edge.address_form(member=member)
    if form.validate_on_submit() and edge.submit_address(form, member):
        return redirect(url_for("cdclub.patron_lookup", card=patron.card_number))
    return render_template("cdclub/address.html", form=form, member=member, patron=patron,
                           cancel_url=url_for("cdclub.patron_lookup", card=patron.card_number))


@bp.post("/members/<int:member_id>/<action>")
@staff_required(*STAFF)
def member_action(member_id: int, action: str) -> Any:
    session = db.session()
    member = service.get_member(session, member_id)
    if action not in edge.ACTIONS:
        raise DomainError("not-found", 404)
    edge.member_action(action, member)
    patron = service.get_patron(session, member.patron_id)
    return redirect(url_for("cdclub.patron_lookup", card=patron.card_number))
