"""The JSON bodies of POST /api/v1/registrations: shape, types, lengths and choices (the identity code's
rules, age and guardian rules stay in validation.py, shared with the web form)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from app.platform.contract import Answer, Body, Text
from app.registration.validation import TEXT_LIMITS

Language = Literal["fi", "sv", "en"]
EligibilityBasis = Literal["visual_impairment", "reading_disability", "physical_disability",
                           "intellectual_disability", "memory_disorder", "other"]
Format = Literal["audiobook", "cd_audiobook", "e_text", "braille", "tactile_picture_book"]


def text(name: str, description: str = "") -> Any:
    return Text(TEXT_LIMITS[name], description)


class RegistrationRequest(Body):
    """A person to register, as a librarian of a member library took it down."""

    given_names: text("given_names")  # type: ignore[valid-type]
    surname: text("surname")  # type: ignore[valid-type]
    national_id: Annotated[str, Field(max_length=20, description=(
        "Finnish personal identity code (henkilötunnus), checked with its check character; the 2023 century "
        "signs A–F and U–Y are accepted and kept as given. Temporary codes (individual number 900–999) are "
        "refused. Never returned."))]
    email: Annotated[str, Field(max_length=254, description=(
        "The credentials (card number and a one-time link to set a PIN) are emailed here once."))]
    phone: Annotated[str, Field(max_length=30)] | None = None
    street_address: text("street_address")  # type: ignore[valid-type]
    postal_code: Annotated[str, Field(max_length=10, description="Five digits")]
    city: text("city")  # type: ignore[valid-type]
    language: Language
    eligibility_basis: EligibilityBasis
    eligibility_note: text("eligibility_note") | None = None  # type: ignore[valid-type]
    preferred_formats: Annotated[list[Format], Field(max_length=len(Format.__args__))] | None = None
    guardian_name: text("guardian_name", "Required when the patron is under 15 (age from the code).") | None = None  # type: ignore[valid-type]
    guardian_contact: text("guardian_contact", "Guardian's phone or email; required under 15.") | None = None  # type: ignore[valid-type]
    guardian_consent: Annotated[bool, Field(description="Must be true when the patron is under 15.")] | None = None


class RegistrationResult(Answer):
    patron_id: int
    card_number: str
    created: bool = Field(description="false: this identity code was already registered; the existing patron is "
                                      "returned and no second credentials email is sent.")
    registered_at: datetime
    registered_by_library: str
