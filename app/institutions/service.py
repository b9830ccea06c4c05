"""Institution applications: apply, claim, ask for information, answer, approve or reject.

Every state change is one conditional UPDATE whose WHERE names the state (and claim) it starts
from, and the row count says whether this caller made the change. Two reviewers, a double click
or a retried request therefore change a state once, and what follows a change (the account, the
credentials email) happens once. Services flush, never commit (the caller owns the transaction).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.accounts import identity
from app.accounts import service as accounts
from app.accounts.models import StaffUser
from app.circulation import service as circulation
from app.circulation.decisions import Decision
from app.errors import DomainError
from app.institutions import business_days
from app.institutions.documents import StoredUploads, Upload
from app.institutions.models import (
    OPEN_STATES,
    ApplicantLink,
    ApplicationDocument,
    ApplicationMessage,
    InstitutionAccount,
    InstitutionApplication,
)
from app.institutions.review_queue import age_in_business_days
from app.institutions.validation import ApplicationInput, InvalidApplication
from app.notify import service as notify

CONSENT_TEXT_VERSION = "2026-1"
STATUS_PATH = "/institutions/application/"
RECORD = "institution_application"


@dataclass(frozen=True)
class Settings:
    """What the edges read from the configuration and hand to the service."""

    base_url: str
    identity_key: str
    claim_minutes: int = 120
    credentials_link_hours: int = 168
    target_business_days: int = 2


@dataclass(frozen=True)
class Submission:
    application: InstitutionApplication
    created: bool  # False: the same application was already waiting (double submit), nothing sent again


@dataclass(frozen=True)
class ApprovalResult:
    outcome: str  # "approved" | "already_approved" | "refused"
    application: InstitutionApplication
    reason: str | None = None  # for "refused": the circulation core's reason ("not_adult", "billing_ban")


def applicant(application: InstitutionApplication) -> str:
    return f"applicant:{application.reference}"


def _new_link(session: Session, application: InstitutionApplication, settings: Settings, now: datetime) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(ApplicantLink(application=application, token_hash=accounts.token_digest(raw), created_at=now))
    return f"{settings.base_url}{STATUS_PATH}{raw}"


def find_by_link(session: Session, raw: str) -> InstitutionApplication | None:
    link = session.scalar(select(ApplicantLink).where(ApplicantLink.token_hash == accounts.token_digest(raw or "")))
    return link.application if link is not None else None


def get_application(session: Session, application_id: int) -> InstitutionApplication:
    application = session.get(InstitutionApplication, application_id)
    if application is None:
        raise DomainError("not-found", 404)
    return application


# ----------------------------------------------------------------- rules

def responsible_person_decision(session: Session, *, national_id_hash: str | None, birth_date: date,
                                now: datetime) -> Decision:
    """Ask the circulation core whether this person may be a responsible person (adult, no billing ban).

    With ``national_id_hash=None`` only the age is checked: the public form must never reveal
    whether somebody is under a ban.
    """
    patron = accounts.patron_by_national_id_hash(session, national_id_hash) if national_id_hash else None
    return circulation.responsible_person_decision(session, patron_id=patron.id if patron else None,
                                                   birth_date=birth_date, now=now)


# ----------------------------------------------------------------- applying

def _repeat_of(session: Session, data: ApplicationInput, id_hash: str) -> InstitutionApplication | None:
    """An identical application still open (a double click, a retried request)."""
    candidates = session.scalars(select(InstitutionApplication).where(
        InstitutionApplication.business_id == data.business_id, InstitutionApplication.rp_national_id_hash == id_hash,
        InstitutionApplication.email == data.email, InstitutionApplication.state.in_(OPEN_STATES)))
    return next((c for c in candidates if c.name.casefold() == data.name.casefold() and c.type == data.type), None)


def submit_application(session: Session, data: ApplicationInput, *, settings: Settings, language: str,
                       now: datetime, document: Upload | None = None,
                       uploads: StoredUploads | None = None) -> Submission:
    """Save a new application and email the applicant a private link to follow it.

    The responsible person must be an adult (checked here from the identity code); a billing ban
    is checked only by the reviewer. ``document`` is written to the media store through
    ``uploads`` only now that every field is valid.
    """
    person = data.responsible_person
    decision = responsible_person_decision(session, national_id_hash=None, birth_date=person.birth_date, now=now)
    if not decision.allowed:
        raise InvalidApplication({"responsible_person.national_id": [decision.reason or "not_adult"]})
    id_hash = identity.identity_hash(settings.identity_key, person.national_id)
    existing = _repeat_of(session, data, id_hash)
    if existing is not None:
        return Submission(existing, created=False)
    application = InstitutionApplication(
        state="submitted", name=data.name, type=data.type, business_id=data.business_id,
        street_address=data.street_address, postal_code=data.postal_code, city=data.city, email=data.email,
        phone=data.phone, language=language, rp_given_names=person.given_names, rp_surname=person.surname,
        rp_national_id_hash=id_hash, rp_national_id_masked=identity.masked(person.national_id),
        rp_birth_date=person.birth_date, rp_email=person.email, rp_phone=person.phone,
        consent_text_version=CONSENT_TEXT_VERSION, consent_given_at=now, submitted_at=now, paused_business_days=0)
    session.add(application)
    session.flush()
    if document is not None and uploads is not None:
        _attach(session, application, document, uploads, now)
    link = _new_link(session, application, settings, now)
    notify.enqueue(session, key=f"institutions:received:{application.id}", channel="email",
                   recipient=application.email, template="institutions_application_received", language=language,
                   now=now, context={"name": application.name, "reference": application.reference, "link": link,
                                     "target": settings.target_business_days})
    audit.record(session, actor=applicant(application), action="institution_application.submitted", now=now,
                 record_type=RECORD, record_id=application.id, type=application.type,
                 business_id=application.business_id, document=document is not None)
    session.flush()
    return Submission(application, created=True)


def _attach(session: Session, application: InstitutionApplication, document: Upload, uploads: StoredUploads,
            now: datetime) -> ApplicationDocument:
    key = uploads.put(application.id, document)
    row = ApplicationDocument(application=application, storage_key=key, filename=document.filename,
                              content_type=document.content_type, size=document.size, uploaded_at=now)
    session.add(row)
    return row


def answer_information_request(session: Session, application: InstitutionApplication, *, text: str,
                               document: Upload | None, uploads: StoredUploads | None, now: datetime) -> None:
    """The applicant answers (text, optionally a document); the application goes back to the queue."""
    if not application.is_open:
        raise DomainError("already-decided", 409, state=application.state)
    requested_at = application.information_requested_at
    paused = application.paused_business_days + (business_days.elapsed(requested_at, now) if requested_at else 0)
    table = InstitutionApplication
    back = _conditional_update(session, application, table.state == "needs_information",
                               table.information_requested_at == requested_at,
                               state="submitted", information_requested_at=None, paused_business_days=paused)
    message = ApplicationMessage(application=application, kind="answer", text=text.strip(), created_at=now)
    session.add(message)
    if document is not None and uploads is not None:
        _attach(session, application, document, uploads, now)
    session.flush()
    asker = _last_asker(session, application)
    if asker is not None and asker.email:
        notify.enqueue(session, key=f"institutions:answer:{message.id}", channel="email", recipient=asker.email,
                       template="institutions_answer_received", language=asker.language, now=now,
                       context={"name": application.name, "reference": application.reference})
    audit.record(session, actor=applicant(application), action="institution_application.information_provided",
                 now=now, record_type=RECORD, record_id=application.id, back_in_queue=bool(back),
                 document=document is not None)


def _last_asker(session: Session, application: InstitutionApplication) -> StaffUser | None:
    request = session.scalar(select(ApplicationMessage).where(
        ApplicationMessage.application_id == application.id, ApplicationMessage.kind == "request")
        .order_by(ApplicationMessage.id.desc()).limit(1))
    return request.staff_user if request is not None else None


# ----------------------------------------------------------------- reviewing

def _conditional_update(session: Session, application: InstitutionApplication, *conditions: Any,
                        **values: Any) -> bool:
    """UPDATE … WHERE id = :id AND <conditions>; True if this call changed the row. Reloads the row."""
    table = InstitutionApplication
    changed = session.execute(update(table).where(table.id == application.id, *conditions).values(**values)
                              .execution_options(synchronize_session=False)).rowcount
    session.refresh(application)
    return changed == 1


def _refusal(application: InstitutionApplication, reviewer: StaffUser, now: datetime) -> DomainError:
    """Why ``reviewer`` cannot act on ``application`` now, as an error the edges can explain."""
    if not application.is_open:
        return DomainError("already-decided", 409, state=application.state)
    if application.claim_is_live(now) and application.claimed_by_id != reviewer.id:
        holder = application.claimed_by
        return DomainError("claimed-by-other", 409, claimed_by=holder.name if holder else "",
                           claimed_until=application.claim_expires_at.isoformat()
                           if application.claim_expires_at else None)
    return DomainError("claim-first", 409, state=application.state)


def claim(session: Session, application_id: int, *, reviewer: StaffUser, now: datetime,
          settings: Settings) -> InstitutionApplication:
    """Take the application for review (or extend one's own claim); nobody else can hold it meanwhile.

    A claim expires after ``claim_minutes``; after that another reviewer may take it over.
    Claiming an application that waits for the applicant resumes its clock.
    """
    application = get_application(session, application_id)
    seen_state, requested_at = application.state, application.information_requested_at
    if seen_state not in OPEN_STATES:
        raise _refusal(application, reviewer, now)
    paused = application.paused_business_days + (business_days.elapsed(requested_at, now) if requested_at else 0)
    table = InstitutionApplication
    if not _conditional_update(
            session, application, table.state == seen_state,
            table.claimed_by_id.is_(None) | table.claim_expires_at.is_(None) | (table.claim_expires_at < now)
            | (table.claimed_by_id == reviewer.id),
            state="in_review", claimed_by_id=reviewer.id,
            claim_expires_at=now + timedelta(minutes=settings.claim_minutes), information_requested_at=None,
            paused_business_days=paused):
        raise _refusal(application, reviewer, now)
    audit.record(session, actor=reviewer, action="institution_application.claimed", now=now, record_type=RECORD,
                 record_id=application.id, until=application.claim_expires_at.isoformat(),
                 from_state=seen_state)
    return application


def release(session: Session, application_id: int, *, reviewer: StaffUser, now: datetime) -> InstitutionApplication:
    """Give the application back to the queue unhandled."""
    application = get_application(session, application_id)
    table = InstitutionApplication
    if not _conditional_update(session, application, table.state == "in_review", table.claimed_by_id == reviewer.id,
                               state="submitted", claimed_by_id=None, claim_expires_at=None):
        raise _refusal(application, reviewer, now)
    audit.record(session, actor=reviewer, action="institution_application.released", now=now, record_type=RECORD,
                 record_id=application.id)
    return application


def _take_from_review(session: Session, application: InstitutionApplication, reviewer: StaffUser,
                      **values: Any) -> bool:
    """The one conditional UPDATE out of "in review, claimed by me"; True if this call made the change."""
    table = InstitutionApplication
    values = {"claimed_by_id": None, "claim_expires_at": None, **values}
    return _conditional_update(session, application, table.state == "in_review", table.claimed_by_id == reviewer.id,
                               **values)


def request_information(session: Session, application_id: int, *, reviewer: StaffUser, text: str, now: datetime,
                        settings: Settings) -> ApplicationMessage:
    """Ask the applicant something; the clock pauses until they answer through their link."""
    if not text.strip():
        raise DomainError("message-required", 422, field="message")
    application = get_application(session, application_id)
    # The asker keeps the application (no expiry while the applicant answers): it shows as theirs in the
    # queue and comes back to them marked as answered. Another reviewer may still take it over.
    if not _take_from_review(session, application, reviewer, state="needs_information",
                             information_requested_at=now, claimed_by_id=reviewer.id):
        raise _refusal(application, reviewer, now)
    message = ApplicationMessage(application=application, kind="request", text=text.strip(),
                                 staff_user_id=reviewer.id, created_at=now)
    session.add(message)
    session.flush()
    notify.enqueue(session, key=f"institutions:question:{message.id}", channel="email",
                   recipient=application.email, template="institutions_information_requested",
                   language=application.language, now=now,
                   context={"name": application.name, "reference": application.reference, "question": message.text,
                            "link": _new_link(session, application, settings, now)})
    audit.record(session, actor=reviewer, action="institution_application.information_requested", now=now,
                 record_type=RECORD, record_id=application.id, message_id=message.id)
    return message


def check_responsible_person(session: Session, application: InstitutionApplication, now: datetime) -> Decision:
    return responsible_person_decision(session, national_id_hash=application.rp_national_id_hash,
                                       birth_date=application.rp_birth_date, now=now)


def approve(session: Session, application_id: int, *, reviewer: StaffUser, now: datetime,
            settings: Settings) -> ApprovalResult:
    """Create the institution's account and send its credentials, once.

    Refused (as a value, and audited) when the responsible person is not an adult or is under a
    borrowing ban for billing or collection. Approving again answers "already approved" and
    sends nothing.
    """
    application = get_application(session, application_id)
    if application.state == "approved":
        return ApprovalResult("already_approved", application)
    if application.state != "in_review" or application.claimed_by_id != reviewer.id:
        raise _refusal(application, reviewer, now)
    decision = check_responsible_person(session, application, now)
    if not decision.allowed:
        audit.record(session, actor=reviewer, action="institution_application.approval_refused", now=now,
                     record_type=RECORD, record_id=application.id, reason=decision.reason)
        return ApprovalResult("refused", application, reason=decision.reason)
    processing = age_in_business_days(application, now)
    if not _take_from_review(session, application, reviewer, state="approved", decided_at=now,
                             decided_by_id=reviewer.id, processing_business_days=processing):
        if application.state == "approved":
            return ApprovalResult("already_approved", application)
        raise _refusal(application, reviewer, now)
    _open_account(session, application, reviewer, now, settings)
    audit.record(session, actor=reviewer, action="institution_application.approved", now=now, record_type=RECORD,
                 record_id=application.id, patron_id=application.patron_id, business_days=processing)
    return ApprovalResult("approved", application)


def _open_account(session: Session, application: InstitutionApplication, reviewer: StaffUser, now: datetime,
                  settings: Settings) -> InstitutionAccount:
    patron = accounts.create_patron(session, name=application.name, now=now, actor=reviewer,
                                    email=application.email, phone=application.phone,
                                    language=application.language, kind="institution")
    responsible = accounts.patron_by_national_id_hash(session, application.rp_national_id_hash)
    account = InstitutionAccount(
        patron_id=patron.id, application_id=application.id, business_id=application.business_id,
        type=application.type, street_address=application.street_address, postal_code=application.postal_code,
        city=application.city, rp_name=f"{application.rp_given_names} {application.rp_surname}",
        rp_national_id_hash=application.rp_national_id_hash,
        rp_national_id_masked=application.rp_national_id_masked, rp_birth_date=application.rp_birth_date,
        rp_email=application.rp_email, rp_phone=application.rp_phone,
        responsible_patron_id=responsible.id if responsible else None, created_at=now)
    session.add(account)
    application.patron_id = patron.id
    raw = accounts.create_one_time_link(session, purpose="set_credentials", now=now,
                                        hours=settings.credentials_link_hours, patron_id=patron.id)
    notify.enqueue(session, key=f"institutions:credentials:{application.id}", channel="email",
                   recipient=application.email, template="institutions_credentials", language=application.language,
                   now=now, context={"name": application.name, "reference": application.reference,
                                     "card_number": patron.card_number, "link": f"{settings.base_url}/reset/{raw}",
                                     "hours": settings.credentials_link_hours})
    session.flush()
    return account


def reject(session: Session, application_id: int, *, reviewer: StaffUser, reason: str, now: datetime,
           settings: Settings) -> tuple[InstitutionApplication, bool]:
    """Reject with a reason, which is sent to the applicant. Returns (application, changed now)."""
    if not reason.strip():
        raise DomainError("reason-required", 422, field="reason")
    application = get_application(session, application_id)
    if application.state == "rejected":
        return application, False
    processing = age_in_business_days(application, now)
    if not _take_from_review(session, application, reviewer, state="rejected", decided_at=now,
                             decided_by_id=reviewer.id, processing_business_days=processing,
                             rejection_reason=reason.strip()):
        if application.state == "rejected":
            return application, False
        raise _refusal(application, reviewer, now)
    notify.enqueue(session, key=f"institutions:rejected:{application.id}", channel="email",
                   recipient=application.email, template="institutions_rejected", language=application.language,
                   now=now, context={"name": application.name, "reference": application.reference,
                                     "reason": application.rejection_reason,
                                     "link": _new_link(session, application, settings, now)})
    audit.record(session, actor=reviewer, action="institution_application.rejected", now=now, record_type=RECORD,
                 record_id=application.id, business_days=processing)
    return application, True


def document_for_reviewer(session: Session, application_id: int, document_id: int, *, reviewer: StaffUser,
                          now: datetime) -> ApplicationDocument:
    document = session.get(ApplicationDocument, document_id)
    if document is None or document.application_id != application_id:
        raise DomainError("not-found", 404)
    audit.record(session, actor=reviewer, action="institution_application.document_viewed", now=now,
                 record_type=RECORD, record_id=application_id, document_id=document.id)
    return document
