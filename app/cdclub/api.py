"""CD club JSON API: the public club list, memberships for reader apps and for library systems."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from app import clock, db, gate
from app.accounts.auth import api_patron, api_staff
from app.accounts.models import Patron
from app.cdclub import messages, service, settings
from app.cdclub.models import Club, ClubMember
from app.cdclub.schemas import (
    AddressIn,
    Clubs,
    Join,
    MemberAdd,
    Members,
    Membership,
    MembershipChange,
    Memberships,
    MembersQuery,
)
from app.cdclub.schemas import Club as ClubAnswer
from app.errors import DomainError, problem, validation_problem
from app.i18n import current_language
from app.platform.contract import operation

bp = Blueprint("cdclub_api", __name__, url_prefix="/api/v1")
gate.declare(bp, "cd_clubs")
STAFF = ("librarian", "producer")
ADDRESS_FIELDS = ("recipient_name", "street_address", "address_extra", "postal_code", "city", "country")
APP, SYSTEMS = ["reader app"], ["library systems"]
REFUSED = "Refused in this state (`type` …/already-member, club-closed, not-active, not-paused, not-a-member)"
FIELDS = "Field errors (`errors[].field`, e.g. `address.postal_code`), or an unknown card number"


def period_json(period: Any) -> dict[str, str]:
    return {"period": period.key, "production_start": period.production_start.isoformat(),
            "delivery_date": period.delivery.isoformat()}


def club_json(club: Club) -> ClubAnswer:
    conf, now = settings.current(), clock.now()
    lang = current_language()
    return ClubAnswer.model_validate({
        "id": club.id, "code": club.code, "name": club.name(lang), "description": club.description(lang),
        "names": {k: club.name(k) for k in service.LANGUAGES},
        "descriptions": {k: club.description(k) for k in service.LANGUAGES},
        "books_per_period": club.books_per_period, "disc_cap": club.disc_cap,
        "delivery_format": club.delivery_format, "accepts_members": club.active,
        "upcoming_periods": [period_json(p) for p in service.upcoming_periods(conf, conf.local_date(now))],
        "first_delivery_if_joining_now": period_json(service.first_period_for(conf, now))})


def membership_json(member: ClubMember, patron: Patron | None = None) -> Membership:
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
    return Membership.model_validate(body)


def _address(given: AddressIn | None) -> service.Address:
    raw = given.model_dump(exclude_none=True) if given is not None else {}
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
@operation("CD book clubs, with their next periods (no login needed)", tags=["clubs"],
           responses={200: (Clubs, "The clubs that take members")})
def list_clubs() -> Any:
    return Clubs(clubs=[club_json(c) for c in service.list_clubs(db.session(), active_only=True)])


@bp.get("/clubs/<int:club_id>")
@operation("One club", tags=["clubs"], responses={200: (ClubAnswer, "The club")})
def get_club(club_id: int) -> Any:
    return club_json(service.get_club(db.session(), club_id))


# ---- reader apps: the patron's own memberships (device token) ---------------------------------

def _own(member_id: int) -> ClubMember:
    member = db.session().get(ClubMember, member_id)
    if member is None or member.patron_id != g.api_patron.id:
        raise DomainError("not-found", 404)
    return member


@bp.get("/club-memberships")
@api_patron
@operation("The patron's club memberships", tags=APP, responses={200: (Memberships, "Memberships")})
def my_memberships() -> Any:
    return Memberships(memberships=[membership_json(m)
                                    for m in service.memberships_of(db.session(), g.api_patron)])


@bp.post("/club-memberships")
@api_patron
@operation("Join a club (the first delivery is the first period whose cut-off is still ahead)", tags=APP,
           body=Join, responses={201: (Membership, "Joined"), 404: "No such club", 409: REFUSED, 422: FIELDS})
def join_club(body: Join) -> Any:
    club = service.get_club(db.session(), body.club_id)
    return _joined(club, g.api_patron, body.address, g.api_patron)


def _joined(club: Club, patron: Patron, address: AddressIn | None, actor: Any, with_card: bool = False) -> Any:
    result = _run(lambda: service.join_club(db.session(), club, patron, address=_address(address),
                                            now=clock.now(), actor=actor, settings=settings.current()))
    if not isinstance(result, ClubMember):
        return result
    return membership_json(result, patron if with_card else None), 201


@bp.get("/club-memberships/<int:member_id>")
@api_patron
@operation("One of the patron's memberships", tags=APP, responses={200: (Membership, "The membership")})
def my_membership(member_id: int) -> Any:
    return membership_json(_own(member_id))


@bp.patch("/club-memberships/<int:member_id>")
@api_patron
@operation("Pause or resume a membership, or change its address", tags=APP, body=MembershipChange,
           responses={200: (Membership, "Changed"), 409: REFUSED, 422: FIELDS})
def change_my_membership(member_id: int, body: MembershipChange) -> Any:
    return _changed(_own(member_id), body, g.api_patron)


@bp.delete("/club-memberships/<int:member_id>")
@api_patron
@operation("Leave a club (runs already frozen still come)", tags=APP,
           responses={200: (Membership, "Left"), 409: REFUSED})
def leave_my_club(member_id: int) -> Any:
    member = _own(member_id)
    result = _run(lambda: service.leave_club(db.session(), member, now=clock.now(), actor=g.api_patron))
    return result if not isinstance(result, list) else membership_json(member)


def _changed(member: ClubMember, change: MembershipChange, actor: Any, patron: Patron | None = None) -> Any:
    """PATCH: {"status": "paused"|"active"} and/or {"address": {...}}."""
    status, now, conf = change.status, clock.now(), settings.current()

    def apply() -> ClubMember:
        if change.address is not None:
            service.change_address(db.session(), member, _address(change.address), now=now, actor=actor)
        if status == "paused" and member.status != "paused":
            service.pause_membership(db.session(), member, now=now, actor=actor)
        elif status == "active" and member.status != "active":
            service.resume_membership(db.session(), member, now=now, actor=actor, settings=conf)
        return member

    result = _run(apply)
    return result if not isinstance(result, ClubMember) else membership_json(member, patron)


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
@operation("A club's members (optionally of one status)", tags=SYSTEMS, query=MembersQuery,
           responses={200: (Members, "Members")})
def club_members(club_id: int, query: MembersQuery) -> Any:
    club = service.get_club(db.session(), club_id)
    rows = service.members_of(db.session(), club, status=query.status)
    return Members(members=[membership_json(m, p) for m, p in rows])


@bp.post("/clubs/<int:club_id>/members")
@api_staff(*STAFF)
@operation("Add a patron to a club", tags=SYSTEMS, body=MemberAdd,
           responses={201: (Membership, "Joined"), 409: REFUSED, 422: FIELDS})
def add_club_member(club_id: int, body: MemberAdd) -> Any:
    club = service.get_club(db.session(), club_id)
    patron = service.find_patron(db.session(), body.card_number)
    if patron is None:
        return validation_problem({"card_number": [messages.text("patron-not-found")]})
    return _joined(club, patron, body.address, g.api_user, with_card=True)


@bp.get("/clubs/<int:club_id>/members/<card_number>")
@api_staff(*STAFF)
@operation("One member of a club, by card number", tags=SYSTEMS, responses={200: (Membership, "The member")})
def club_member(club_id: int, card_number: str) -> Any:
    member, patron = _staff_member(club_id, card_number)
    return membership_json(member, patron)


@bp.patch("/clubs/<int:club_id>/members/<card_number>")
@api_staff(*STAFF)
@operation("Pause or resume a member, or change the address", tags=SYSTEMS, body=MembershipChange,
           responses={200: (Membership, "Changed"), 409: REFUSED, 422: FIELDS})
def change_club_member(club_id: int, card_number: str, body: MembershipChange) -> Any:
    member, patron = _staff_member(club_id, card_number)
    return _changed(member, body, g.api_user, patron)


@bp.delete("/clubs/<int:club_id>/members/<card_number>")
@api_staff(*STAFF)
@operation("Take a member out of a club", tags=SYSTEMS, responses={200: (Membership, "Left"), 409: REFUSED})
def remove_club_member(club_id: int, card_number: str) -> Any:
    member, patron = _staff_member(club_id, card_number)
    result = _run(lambda: service.leave_club(db.session(), member, now=clock.now(), actor=g.api_user))
    return result if not isinstance(result, list) else membership_json(member, patron)
