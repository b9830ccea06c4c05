"""Translated words for the codes the institutions service returns (architecture rule 8)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

TYPE_LABELS: dict[str, Any] = {
    "school": _l("School"),
    "daycare": _l("Day-care centre"),
    "care_home": _l("Care home"),
    "library": _l("Library"),
    "other": _l("Other institution or community"),
}

STATE_LABELS: dict[str, Any] = {
    "submitted": _l("Waiting for review"),
    "in_review": _l("In review"),
    "needs_information": _l("Waiting for more information from the applicant"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}

# What the applicant reads about each state on their private page.
STATE_EXPLANATIONS: dict[str, Any] = {
    "submitted": _l("Your application is in the queue. We normally handle applications within %(days)s business "
                    "days."),
    "in_review": _l("A reviewer is handling your application now."),
    "needs_information": _l("We need more information from you. Please answer the question below."),
    "approved": _l("Your application was approved. The library card number and a link to choose a password "
                   "were sent to the institution's email address."),
    "rejected": _l("Your application was rejected. The reason is shown below."),
}

FIELD_ERRORS: dict[str, Any] = {
    "required": _l("This field is required."),
    "too_long": _l("This is too long."),
    "type_unknown": _l("Choose the type of the institution from the list."),
    "business_id_format": _l("Enter the business ID (Y-tunnus) as seven digits, a hyphen and a check digit, "
                             "for example 1234567-8."),
    "business_id_checksum": _l("The check digit of the business ID (Y-tunnus) does not match. Check the number."),
    "postal_code_format": _l("Enter a Finnish postal code of five digits, for example 00100."),
    "email_invalid": _l("Enter an email address like name@example.fi."),
    "phone_format": _l("Enter a phone number with digits only, for example +358 40 123 4567."),
    "national_id_format": _l("Enter the personal identity code as DDMMYYCZZZQ, for example 010190-123A."),
    "national_id_checksum": _l("The check character of the personal identity code does not match. Check the code."),
    "not_adult": _l("The responsible person must be an adult (18 or over)."),
    "consent_required": _l("The responsible person's consent is needed to open the account."),
    "document_empty": _l("The file is empty."),
    "document_too_large": _l("The file is too large."),
    "document_type": _l("The file must be a PDF, JPEG or PNG."),
}

DECISION_REASONS: dict[str, Any] = {
    "not_adult": _l("The responsible person is not an adult."),
    "billing_ban": _l("The responsible person is under a borrowing ban because of billing or collection, and "
                      "cannot be anybody's responsible person."),
}

CONFLICTS: dict[str, Any] = {
    "claimed-by-other": _l("Another reviewer, %(name)s, has this application until %(until)s."),
    "claim-first": _l("Take the application for review first."),
    "already-decided": _l("This application has already been decided."),
    "message-required": _l("Write the question to the applicant."),
    "reason-required": _l("Write the reason for the rejection. It is sent to the applicant."),
}


# The history of an application in words (app/audit.py): %(who)s is the person who acted.
HISTORY: dict[str, Any] = {
    "institution_application.submitted": _l("The application was sent."),
    "institution_application.claimed": _l("%(who)s took the application for review."),
    "institution_application.released": _l("%(who)s gave the application back to the queue."),
    "institution_application.information_requested": _l("%(who)s asked for more information."),
    "institution_application.information_provided": _l("The applicant answered."),
    "institution_application.approval_refused": _l("%(who)s tried to approve the application; it was refused."),
    "institution_application.approved": _l("%(who)s approved the application."),
    "institution_application.rejected": _l("%(who)s rejected the application."),
    "institution_application.document_viewed": _l("%(who)s opened an attached document."),
    "institution_review_reply.saved": _l("%(who)s saved the canned reply “%(title)s”."),
}


def field_error(code: str) -> str:
    return str(FIELD_ERRORS.get(code, code))


def decision_reason(code: str | None) -> str:
    return str(DECISION_REASONS.get(code or "", code or ""))
