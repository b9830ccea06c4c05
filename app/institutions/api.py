"""JSON API: the public application (mirrors the form) and the review queue for staff tokens."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, g
from flask_babel import gettext as _

from app import clock, db, gate
from app.accounts.auth import api_staff
from app.errors import DomainError, problem
from app.institutions import review_queue, service, texts, web
from app.institutions.models import InstitutionApplication
from app.institutions.schemas import (
    ApplicationDetail,
    ApplicationRequest,
    Figures,
    FiguresQuery,
    MessageBody,
    Queue,
    QueueEntry,
    QueueQuery,
    Receipt,
    RejectBody,
)
from app.institutions.validation import InvalidApplication
from app.platform.contract import operation

bp = Blueprint("institutions_api", __name__, url_prefix="/api/v1/institution-applications")
REVIEWER = "reviewer"
TAGS = ["institutions"]
CONFLICT = "The application is not in a state for this (already decided, claimed by another reviewer …)"


def public_view(application: InstitutionApplication, created: bool) -> Receipt:
    return Receipt(id=application.id, reference=application.reference, state=application.state,
                   submitted_at=application.submitted_at, created=created)


def staff_view(application: InstitutionApplication, now: datetime, detail: bool = False) -> QueueEntry:
    age = review_queue.age_in_business_days(application, now)
    target = web.settings().target_business_days
    body = {
        "id": application.id, "reference": application.reference, "state": application.state,
        "name": application.name, "type": application.type, "business_id": application.business_id,
        "submitted_at": application.submitted_at, "age_business_days": age,
        "past_target": application.is_open and age > target,
        "claimed_by": ({"id": application.claimed_by.id, "name": application.claimed_by.name}
                       if application.claim_is_live(now) and application.claimed_by else None),
        "claim_expires_at": application.claim_expires_at if application.claim_is_live(now) else None,
        "decided_at": application.decided_at, "rejection_reason": application.rejection_reason or None,
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
            "messages": [{"kind": m.kind, "text": m.text, "created_at": m.created_at}
                         for m in application.messages],
            "documents": [{"id": d.id, "filename": d.filename, "content_type": d.content_type, "size": d.size}
                          for d in application.documents]}
        return ApplicationDetail.model_validate(body)
    return QueueEntry.model_validate(body)


def field_problem(errors: dict[str, list[str]]) -> Any:
    items = [{"field": f, "name": f, "code": c, "message": texts.field_error(c), "reason": texts.field_error(c)}
             for f, codes in errors.items() for c in codes]
    return problem(422, "validation-error", _("Some fields need correcting."), errors=items, invalid_params=items)


@bp.post("")
@gate.component("institution_applications")
@operation("Apply for an institution account (public; mirrors the web form without the document upload)",
           tags=TAGS, body=ApplicationRequest,
           responses={201: (Receipt, "Received: the applicant gets a confirmation email"),
                      200: (Receipt, "The same application was already waiting: nothing was sent again"),
                      422: "Field errors, also the business ID's check digit and the responsible person's "
                           "identity code and age (`errors`: field, code and message)"})
def submit(body: ApplicationRequest) -> Any:
    try:
        result = web.submit(body.model_dump(exclude_none=True), None)
    except InvalidApplication as invalid:
        return field_problem(invalid.errors)
    return public_view(result.application, result.created), 201 if result.created else 200


def _action(run: Any) -> Any:
    try:
        application = run()
    except DomainError as err:
        db.session().rollback()
        return problem(err.status, err.code, web.conflict_text(err), **err.params)
    db.session().commit()
    return staff_view(application, clock.now())


@bp.get("")
@api_staff(REVIEWER)
@operation("The review queue, oldest first", tags=TAGS, query=QueueQuery,
           responses={200: (Queue, "Applications")})
def list_applications(query: QueueQuery) -> Any:
    filters = review_queue.QueueFilters(state=query.state, type=query.type, age=query.age)
    now = clock.now()
    rows = review_queue.queue(db.session(), filters, now=now, target=web.settings().target_business_days)
    return Queue(applications=[staff_view(r.application, now).model_copy(update={"possible_duplicate": r.duplicate})
                               for r in rows])


@bp.get("/figures")
@api_staff(REVIEWER)
@operation("Throughput of the queue in business days", tags=TAGS, query=FiguresQuery,
           responses={200: (Figures, "Figures")})
def figures(query: FiguresQuery) -> Any:
    f = review_queue.throughput(db.session(), now=clock.now(), days=query.days,
                                target=web.settings().target_business_days)
    return Figures(days=f.days, received=f.received, decided=f.decided, approved=f.approved, rejected=f.rejected,
                   median_business_days=f.median_business_days, p90_business_days=f.p90_business_days,
                   open=f.open_now, past_target=f.past_target_now)


@bp.get("/<int:application_id>")
@api_staff(REVIEWER)
@operation("One application with the responsible person (masked code), duplicates, messages and documents",
           tags=TAGS, responses={200: (ApplicationDetail, "The application")})
def get_application(application_id: int) -> Any:
    return staff_view(service.get_application(db.session(), application_id), clock.now(), detail=True)


@bp.post("/<int:application_id>/claim")
@api_staff(REVIEWER)
@operation("Claim an application for review (a lease; other reviewers see who has it)", tags=TAGS,
           responses={200: (QueueEntry, "Claimed"), 409: CONFLICT})
def claim(application_id: int) -> Any:
    return _action(lambda: service.claim(db.session(), application_id, reviewer=g.api_user, now=clock.now(),
                                         settings=web.settings()))


@bp.post("/<int:application_id>/release")
@api_staff(REVIEWER)
@operation("Release a claimed application", tags=TAGS, responses={200: (QueueEntry, "Released"), 409: CONFLICT})
def release(application_id: int) -> Any:
    return _action(lambda: service.release(db.session(), application_id, reviewer=g.api_user, now=clock.now()))


@bp.post("/<int:application_id>/request-information")
@api_staff(REVIEWER)
@operation("Ask the applicant for more information (emailed; the clock pauses until they answer)", tags=TAGS,
           body=MessageBody, responses={200: (QueueEntry, "Sent"), 409: CONFLICT})
def request_information(application_id: int, body: MessageBody) -> Any:
    return _action(lambda: service.request_information(
        db.session(), application_id, reviewer=g.api_user, text=body.message, now=clock.now(),
        settings=web.settings()).application)


@bp.post("/<int:application_id>/reject")
@api_staff(REVIEWER)
@operation("Reject an application with a reason (emailed to the applicant)", tags=TAGS, body=RejectBody,
           responses={200: (QueueEntry, "Rejected"), 409: CONFLICT})
def reject(application_id: int, body: RejectBody) -> Any:
    return _action(lambda: service.reject(db.session(), application_id, reviewer=g.api_user,
                                          reason=body.reason, now=clock.now(), settings=web.settings())[0])


@bp.post("/<int:application_id>/approve")
@api_staff(REVIEWER)
@operation("Approve: the institution gets its account (or an existing one is linked) and credentials by email",
           tags=TAGS, responses={200: (QueueEntry, "Approved (`outcome`: created or linked)"), 409: CONFLICT,
                                 422: "The responsible person may not be responsible (`reason`)"})
def approve(application_id: int) -> Any:
    try:
        result = service.approve(db.session(), application_id, reviewer=g.api_user, now=clock.now(),
                                 settings=web.settings())
    except DomainError as err:
        return problem(err.status, err.code, web.conflict_text(err), **err.params)
    db.session().commit()
    if result.outcome == "refused":
        return problem(422, "responsible-person-refused", texts.decision_reason(result.reason), reason=result.reason)
    return staff_view(result.application, clock.now()).model_copy(update={"outcome": result.outcome})
