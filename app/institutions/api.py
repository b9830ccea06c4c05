"""JSON API: the public application (mirrors the form) and the review queue for staff tokens."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _

from app import clock, db, gate
from app.accounts.auth import api_staff
from app.errors import DomainError, problem
from app.institutions import review_queue, service, texts, web
from app.institutions.api_docs import register as register_openapi
from app.institutions.models import INSTITUTION_TYPES, STATES, InstitutionApplication
from app.institutions.validation import InvalidApplication

bp = Blueprint("institutions_api", __name__, url_prefix="/api/v1/institution-applications")
REVIEWER = "reviewer"
register_openapi()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def public_view(application: InstitutionApplication, created: bool) -> dict[str, Any]:
    return {"id": application.id, "reference": application.reference, "state": application.state,
            "submitted_at": _iso(application.submitted_at), "created": created}


def staff_view(application: InstitutionApplication, now: datetime, detail: bool = False) -> dict[str, Any]:
    age = review_queue.age_in_business_days(application, now)
    target = web.settings().target_business_days
    body = {
        "id": application.id, "reference": application.reference, "state": application.state,
        "name": application.name, "type": application.type, "business_id": application.business_id,
        "submitted_at": _iso(application.submitted_at), "age_business_days": age,
        "past_target": application.is_open and age > target,
        "claimed_by": ({"id": application.claimed_by.id, "name": application.claimed_by.name}
                       if application.claim_is_live(now) and application.claimed_by else None),
        "claim_expires_at": _iso(application.claim_expires_at) if application.claim_is_live(now) else None,
        "decided_at": _iso(application.decided_at), "rejection_reason": application.rejection_reason or None,
        "card_number": application.patron.card_number if application.patron else None,
    }
    if detail:
        session = db.session()
        dup = review_queue.duplicates_of(session, application)
        decision = service.check_responsible_person(session, application, now) if application.is_open else None
        body |= {
            "street_address": application.street_address, "postal_code": application.postal_code,
            "city": application.city, "email": application.email, "phone": application.phone,
            "language": application.language,
            "responsible_person": {
                "given_names": application.rp_given_names, "surname": application.rp_surname,
                "national_id_masked": application.rp_national_id_masked,
                "birth_date": application.rp_birth_date.isoformat(), "email": application.rp_email,
                "phone": application.rp_phone,
                "may_be_responsible": decision.allowed if decision else None,
                "refusal_reason": decision.reason if decision else None},
            "duplicates": {"open_applications": [a.reference for a in dup.open_applications],
                           "institution_accounts": [a.patron.card_number for a in dup.accounts]},
            "messages": [{"kind": m.kind, "text": m.text, "created_at": _iso(m.created_at)}
                         for m in application.messages],
            "documents": [{"id": d.id, "filename": d.filename, "content_type": d.content_type, "size": d.size}
                          for d in application.documents]}
    return body


def field_problem(errors: dict[str, list[str]]) -> Any:
    items = [{"field": f, "name": f, "code": c, "message": texts.field_error(c), "reason": texts.field_error(c)}
             for f, codes in errors.items() for c in codes]
    return problem(422, "validation-error", _("Some fields need correcting."), errors=items, invalid_params=items)


@bp.post("")
@gate.component("institution_applications")
def submit() -> Any:
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        return problem(400, "bad-request", _("Send the application as a JSON object."))
    try:
        result = web.submit(raw, None)
    except InvalidApplication as invalid:
        return field_problem(invalid.errors)
    return jsonify(public_view(result.application, result.created)), 201 if result.created else 200


def _action(run: Any) -> Any:
    try:
        application = run()
    except DomainError as err:
        db.session().rollback()
        return problem(err.status, err.code, web.conflict_text(err), **err.params)
    db.session().commit()
    return jsonify(staff_view(application, clock.now()))


@bp.get("")
@api_staff(REVIEWER)
def list_applications() -> Any:
    args = request.args
    filters = review_queue.QueueFilters(
        state=args.get("state", "open") if args.get("state", "open") in (*STATES, "open", "all") else "open",
        type=args.get("type", "") if args.get("type", "") in INSTITUTION_TYPES else "",
        age=args.get("age", "") if args.get("age", "") in review_queue.AGE_FILTERS else "")
    now = clock.now()
    rows = review_queue.queue(db.session(), filters, now=now, target=web.settings().target_business_days)
    return jsonify({"applications": [staff_view(r.application, now) | {"possible_duplicate": r.duplicate}
                                     for r in rows]})


@bp.get("/figures")
@api_staff(REVIEWER)
def figures() -> Any:
    days = request.args.get("days", 30, type=int)
    f = review_queue.throughput(db.session(), now=clock.now(), days=max(1, min(days, 3660)),
                                target=web.settings().target_business_days)
    return jsonify({"days": f.days, "received": f.received, "decided": f.decided, "approved": f.approved,
                    "rejected": f.rejected, "median_business_days": f.median_business_days,
                    "p90_business_days": f.p90_business_days, "open": f.open_now, "past_target": f.past_target_now})


@bp.get("/<int:application_id>")
@api_staff(REVIEWER)
def get_application(application_id: int) -> Any:
    return jsonify(staff_view(service.get_application(db.session(), application_id), clock.now(), detail=True))


@bp.post("/<int:application_id>/claim")
@api_staff(REVIEWER)
def claim(application_id: int) -> Any:
    return _action(lambda: service.claim(db.session(), application_id, reviewer=g.api_user, now=clock.now(),
                                         settings=web.settings()))


@bp.post("/<int:application_id>/release")
@api_staff(REVIEWER)
def release(application_id: int) -> Any:
    return _action(lambda: service.release(db.session(), application_id, reviewer=g.api_user, now=clock.now()))


def _text_field(name: str) -> str:
    body = request.get_json(silent=True)
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


@bp.post("/<int:application_id>/request-information")
@api_staff(REVIEWER)
def request_information(application_id: int) -> Any:
    return _action(lambda: service.request_information(
        db.session(), application_id, reviewer=g.api_user, text=_text_field("message"), now=clock.now(),
        settings=web.settings()).application)


@bp.post("/<int:application_id>/reject")
@api_staff(REVIEWER)
def reject(application_id: int) -> Any:
    return _action(lambda: service.reject(db.session(), application_id, reviewer=g.api_user,
                                          reason=_text_field("reason"), now=clock.now(),
                                          settings=web.settings())[0])


@bp.post("/<int:application_id>/approve")
@api_staff(REVIEWER)
def approve(application_id: int) -> Any:
    try:
        result = service.approve(db.session(), application_id, reviewer=g.api_user, now=clock.now(),
                                 settings=web.settings())
    except DomainError as err:
        return problem(err.status, err.code, web.conflict_text(err), **err.params)
    db.session().commit()
    if result.outcome == "refused":
        return problem(422, "responsible-person-refused", texts.decision_reason(result.reason), reason=result.reason)
    return jsonify(staff_view(result.application, clock.now()) | {"outcome": result.outcome})
