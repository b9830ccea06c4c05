"""The JSON bodies of /api/v1/institution-applications: the public application and the review queue.
Shape, types, lengths and choices; the business ID's and identity code's rules stay in validation.py."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from app.institutions.models import INSTITUTION_TYPES, STATES
from app.institutions.review_queue import AGE_FILTERS
from app.institutions.validation import LIMITS
from app.platform.contract import Answer, Body, Query, Text

InstitutionType = Literal[INSTITUTION_TYPES]  # type: ignore[valid-type]
State = Literal[STATES]  # type: ignore[valid-type]


class ResponsiblePerson(Body):
    given_names: Text(LIMITS["given_names"], "Given names")  # type: ignore[valid-type]
    surname: Text(LIMITS["surname"], "Surname")  # type: ignore[valid-type]
    national_id: Text(20, "Finnish personal identity code (henkilötunnus), century signs of 2023 included; must "  # type: ignore[valid-type]
                          "be an adult's. Stored only as a keyed hash and a masked form.")
    email: Text(254, "Email address")  # type: ignore[valid-type]
    phone: Text(30, "Phone number (optional)") | None = None  # type: ignore[valid-type]


class ApplicationRequest(Body):
    name: Text(LIMITS["name"], "Name of the institution")  # type: ignore[valid-type]
    type: InstitutionType
    business_id: Text(20, "Finnish business ID (Y-tunnus), checked with its check digit, e.g. 7654321-2")  # type: ignore[valid-type]
    street_address: Text(LIMITS["street_address"], "Street address")  # type: ignore[valid-type]
    postal_code: Text(10, "Finnish postal code, five digits")  # type: ignore[valid-type]
    city: Text(LIMITS["city"], "Town or city")  # type: ignore[valid-type]
    email: Text(254, "The institution's email: the follow-up link and the credentials go here")  # type: ignore[valid-type]
    phone: Text(30, "The institution's phone number")  # type: ignore[valid-type]
    responsible_person: ResponsiblePerson
    consent: bool = Field(description="The responsible person's written consent has been given (must be true)")
    language: Literal["fi", "sv", "en"] | None = Field(
        None, description="Language of the emails to the applicant (default: Accept-Language)")


class Receipt(Answer):
    id: int
    reference: str
    state: State
    submitted_at: datetime | None
    created: bool = Field(description="false: the same application was already waiting; nothing was sent again")


class Reviewer(Answer):
    id: int
    name: str


class QueueEntry(Answer):
    """An application as reviewers see it in the queue (identity codes never shown)."""

    id: int
    reference: str
    state: State
    name: str
    type: InstitutionType
    business_id: str
    submitted_at: datetime | None
    age_business_days: int = Field(description="Finnish business days on the clock (paused while waiting for "
                                               "the applicant)")
    past_target: bool
    claimed_by: Reviewer | None
    claim_expires_at: datetime | None
    decided_at: datetime | None
    rejection_reason: str | None
    card_number: str | None
    possible_duplicate: bool | None = None
    outcome: str | None = Field(None, description="After approve: created or linked (an existing account)")


class Queue(Answer):
    applications: list[QueueEntry]


class PersonDetail(Answer):
    given_names: str
    surname: str
    national_id_masked: str
    birth_date: str
    email: str
    phone: str | None
    may_be_responsible: bool | None
    refusal_reason: str | None


class Duplicates(Answer):
    open_applications: list[str]
    institution_accounts: list[str]


class Message(Answer):
    kind: str
    text: str
    created_at: datetime | None


class Document(Answer):
    id: int
    filename: str
    content_type: str
    size: int


class ApplicationDetail(QueueEntry):
    street_address: str
    postal_code: str
    city: str
    email: str
    phone: str
    language: str | None
    responsible_person: PersonDetail
    duplicates: Duplicates
    messages: list[Message]
    documents: list[Document]


class Figures(Answer):
    days: int
    received: int
    decided: int
    approved: int
    rejected: int
    median_business_days: float | None
    p90_business_days: int | None
    open: int
    past_target: int


class QueueQuery(Query):
    state: State | Literal["open", "all"] = "open"  # type: ignore[valid-type]
    type: InstitutionType | Literal[""] = ""  # type: ignore[valid-type]
    age: Literal[AGE_FILTERS] | Literal[""] = ""  # type: ignore[valid-type]


class FiguresQuery(Query):
    days: int = Field(30, ge=1, le=3660, description="The period, in days up to now")


class MessageBody(Body):
    message: Annotated[str, Field(max_length=5000)]


class RejectBody(Body):
    reason: Annotated[str, Field(max_length=5000)]
