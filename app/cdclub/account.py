"""The patron's own club pages under /account/clubs: see the clubs, join, pause, resume, leave, move."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app import clock, db, gate
from app.accounts.auth import patron_required
from app.cdclub import edge, labels, messages, service, settings
from app.cdclub.models import ClubMember
from app.errors import DomainError

bp = Blueprint("cdclub_account", __name__, url_prefix="/account/clubs")
gate.declare(bp, "cd_clubs")


@bp.context_processor
def _texts() -> dict[str, Any]:
    return {"club_texts": messages, "address_lines": labels.address_lines, "can_produce": False}


def _own_membership(club_id: int) -> ClubMember:
    member = service.membership(db.session(), service.get_club(db.session(), club_id), current_user)
    if member is None:
        raise DomainError("not-found", 404)
    return member


@bp.get("")
@patron_required
def my_clubs() -> Any:
    session, conf, now = db.session(), settings.current(), clock.now()
    memberships = {m.club_id: m for m in service.memberships_of(session, current_user)}
    outlooks = {m.id: service.member_outlook(session, m, conf, now) for m in memberships.values()}
    return render_template("cdclub/my_clubs.html", clubs=service.list_clubs(session, active_only=True),
                           memberships=memberships, outlooks=outlooks, first=service.first_period_for(conf, now))


@bp.route("/<int:club_id>/join", methods=["GET", "POST"])
@patron_required
def join(club_id: int) -> Any:
    club = service.get_club(db.session(), club_id)
    form = edge.address_form(patron=current_user)
    if form.validate_on_submit() and edge.submit_join(form, club, current_user):
        return redirect(url_for("cdclub_account.my_clubs"))
    return render_template("cdclub/join.html", form=form, club=club, patron=None,
                           first=service.first_period_for(settings.current(), clock.now()),
                           cancel_url=url_for("cdclub_account.my_clubs"))


@bp.route("/<int:club_id>/address", methods=["GET", "POST"])
@patron_required
def address(club_id: int) -> Any:
    member = _own_membership(club_id)
    form = edge.address_form(member=member)
    if form.validate_on_submit() and edge.submit_address(form, member):
        return redirect(url_for("cdclub_account.my_clubs"))
    return render_template("cdclub/address.html", form=form, member=member, patron=None,
                           cancel_url=url_for("cdclub_account.my_clubs"))


@bp.get("/<int:club_id>/leave")
@patron_required
def confirm_leave(club_id: int) -> Any:
    member = _own_membership(club_id)
    return render_template("cdclub/leave.html", member=member,
                           still_coming=service.runs_still_coming(db.session(), member))


@bp.post("/<int:club_id>/<action>")
@patron_required
def member_action(club_id: int, action: str) -> Any:
    if action not in edge.ACTIONS:
        raise DomainError("not-found", 404)
    edge.member_action(action, _own_membership(club_id))
    return redirect(url_for("cdclub_account.my_clubs"))
