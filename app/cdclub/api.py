"""CD club JSON API: the public club list, memberships for reader apps and for library systems."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from app import clock, db, gate
from app.accounts.auth import api_patron, api_staff
from app.accounts.models import Patron
from app.cdclub import messages, service, settings
from app.cdclub.models import Club, ClubMember
from app.cdclub.openapi_doc import register
from app.errors import DomainError, problem, validation_problem
from app.i18n import current_language

bp = Blueprint("cdclub_api", __name__, url_prefix="/api/v1")
gate.declare(bp, "cd_clubs")
STAFF = ("librarian", "producer")
ADDRESS_FIELDS = ("recipient_name", "street_address", "address_extra", "postal_code", "city", "country")


def period_json(period: Any) -> dict[str, str]:
    return {"period": period.key, "production_start": period.production_start.isoformat(),
            "delivery_date": period.delivery.isoformat()}


def club_json(club: Club) -> dict[str, Any]:
    conf, now = settings.current(), clock.now()
    lang = current_language()
    return {"id": club.id, "code": club.code, "name": club.name(lang), "description": club.description(lang),
            "names": {k: club.name(k) for k in service.LANGUAGES},
            "descriptions": {k: club.description(k) for k in service.LANGUAGES},
            "books_per_period": club.books_per_period, "disc_cap": club.disc_cap,
            "delivery_format": club.delivery_format, "accepts_members": club.active,
            "upcoming_periods": [period_json(p) for p in service.upcoming_periods(conf, conf.local_date(now))],
            "first_delivery_if_joining_now": period_json(service.first_period_for(conf, now))}


def membership_json(member: ClubMember, patron: Patron | None = None) -> dict[str, Any]:
    outlook = service.member_outlook(db.session(), member, settings.current(), clock.now())
    body = {"id": member.id, "club": {"id": member.club.id, "code": member.club.code,
                                       "name": member.club.name(current_language())},
            "status": member.status, "joined_at": member.joined_at.isoformat(), "first_period": member.first_period,
            "next_delivery": ({"period": outlook.next_period, "delivery_date": outlook.next_delivery.isoformat()}
                              if outlook.next_delivery else None),
            "still_receiving": [{"period": r.period, "delivery_date": r.delivery_date.isoformat()}
                                for r in outlook.frozen_runs] if member.status != "active" else [],
            "address": {name: getattr(member, name) for name in ADDRESS_FIELDS}}
    if patron is not None:
        body["card_number"] = patron.card_number
    return body


def _address(payload: dict[str, Any]) -> service.Address:
    raw = payload.get("address") or {}
    if not isinstance(raw, dict):
        raw = {}
    return service.Address(**{name: str(raw.get(name) or "") for name in ADDRESS_FIELDS
                              if name != "country" or raw.get(name)})


def _refusal(err: DomainError) -> Any:
    if isinstance(err, service.ClubInputError):
        return validation_problem({f"address.{k}" if k in ADDRESS_FIELDS else k: v
                                   for k, v in messages.field_messages(err.errors).items()})
    return problem(err.status, err.code, messages.text(err.code), **err.params)


def _run(action: Any) -> Any:
    """Call a service action, commit, or turn its refusal into problem+json."""
    try:
        result = action()
    except DomainError as err:
        db.session().rollback()
        return _refusal(err)
    db.session().commit()
    return result


@bp.get("/clubs")
def list_clubs() -> Any:
    return jsonify({"clubs": [club_json(c) for c in service.list_clubs(db.session(), active_only=True)]})


@bp.get("/clubs/<int:club_id>")
def get_club(club_id: int) -> Any:
    return jsonify(club_json(service.get_club(db.session(), club_id)))


# ---- reader apps: the patron's own memberships (device token) ---------------------------------

def _own(member_id: int) -> ClubMember:
    member = db.session().get(ClubMember, member_id)
    if member is None or member.patron_id != g.api_patron.id:
        raise DomainError("not-found", 404)
    return member


@bp.get("/club-memberships")
@api_patron
def my_memberships() -> Any:
    return jsonify({"memberships": [membership_json(m) for m in service.memberships_of(db.session(), g.api_patron)]})


@bp.post("/club-memberships")
@api_patron
def join_club() -> Any:
    payload = request.get_json(silent=True) or {}
    club_id = payload.get("club_id")
    if not isinstance(club_id, int):
        return validation_problem({"club_id": [messages.text("required")]})
    club = service.get_club(db.session(), club_id)
    return _joined(club, g.api_patron, payload, g.api_patron)


def _joined(club: Club, patron: Patron, payload: dict[str, Any], actor: Any, with_card: bool = False) -> Any:
    result = _run(lambda: service.join_club(db.session(), club, patron, address=_address(payload),
                                            now=clock.now(), actor=actor, settings=settings.current()))
    if not isinstance(result, ClubMember):
        return result
    return jsonify(membership_json(result, patron if with_card else None)), 201


@bp.get("/club-memberships/<int:member_id>")
@api_patron
def my_membership(member_id: int) -> Any:
    return jsonify(membership_json(_own(member_id)))


@bp.patch("/club-memberships/<int:member_id>")
@api_patron
def change_my_membership(member_id: int) -> Any:
    return _changed(_own(member_id), request.get_json(silent=True) or {}, g.api_patron)


@bp.delete("/club-memberships/<int:member_id>")
@api_patron
def leave_my_club(member_id: int) -> Any:
    member = _own(member_id)
    result = _run(lambda: service.leave_club(db.session(), member, now=clock.now(), actor=g.api_patron))
    return result if not isinstance(result, list) else jsonify(membership_json(member))


def _changed(member: ClubMember, payload: dict[str, Any], actor: Any, patron: Patron | None = None) -> Any:
    """PATCH: {"status": "paused"|"active"} and/or {"address": {...}}."""
    status, now, conf = payload.get("status"), clock.now(), settings.current()
    if status not in (None, "active", "paused"):
        return validation_problem({"status": [messages.text("not-a-member")]})

    def apply() -> ClubMember:
        if "address" in payload:
            service.change_address(db.session(), member, _address(payload), now=now, actor=actor)
        if status == "paused" and member.status != "paused":
            service.pause_membership(db.session(), member, now=now, actor=actor)
        elif status == "active" and member.status != "active":
            service.resume_membership(db.session(), member, now=now, actor=actor, settings=conf)
        return member

    result = _run(apply)
    return result if not isinstance(result, ClubMember) else jsonify(membership_json(member, patron))


# ---- library systems: members of a club (staff token) -----------------------------------------

def _staff_member(club_id: int, card_number: str) -> tuple[ClubMember, Patron]:
    session = db.session()
    club, patron = service.get_club(session, club_id), service.find_patron(session, card_number)
    member = service.membership(session, club, patron) if patron else None
    if member is None:
        raise DomainError("not-found", 404)
    return member, patron  # type: ignore[return-value]


@bp.get("/clubs/<int:club_id>/members")
@api_staff(*STAFF)
def club_members(club_id: int) -> Any:
    club = service.get_club(db.session(), club_id)
    status = request.args.get("status") or None
    rows = service.members_of(db.session(), club, status=status)
    return jsonify({"members": [membership_json(m, p) for m, p in rows]})


@bp.post("/clubs/<int:club_id>/members")
@api_staff(*STAFF)
def add_club_member(club_id: int) -> Any:
    payload = request.get_json(silent=True) or {}
    club = service.get_club(db.session(), club_id)
    patron = service.find_patron(db.session(), str(payload.get("card_number") or ""))
    if patron is None:
        return validation_problem({"card_number": [messages.text("patron-not-found")]})
    return _joined(club, patron, payload, g.api_user, with_card=True)


@bp.get("/clubs/<int:club_id>/members/<card_number>")
@api_staff(*STAFF)
def club_member(club_id: int, card_number: str) -> Any:
    member, patron = _staff_member(club_id, card_number)
    return jsonify(membership_json(member, patron))


@bp.patch("/clubs/<int:club_id>/members/<card_number>")
@api_staff(*STAFF)
def change_club_member(club_id: int, card_number: str) -> Any:
    member, patron = _staff_member(club_id, card_number)
    return _changed(member, request.get_json(silent=True) or {}, g.api_user, patron)


@bp.delete("/clubs/<int:club_id>/members/<card_number>")
@api_staff(*STAFF)
def remove_club_member(club_id: int, card_number: str) -> Any:
    member, patron = _staff_member(club_id, card_number)
    result = _run(lambda: service.leave_club(db.session(), member, now=clock.now(), actor=g.api_user))
    return result if not isinstance(result, list) else jsonify(membership_json(member, patron))


register()
