"""Demo registrations by the demo librarian (idempotent: the identity-code key answers repeats)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import StaffUser
from app.registration import service

DEMO_LIBRARIAN = "librarian@demo.kuulo.test"
# Valid but invented identity codes; the acceptance checks use other codes, so they stay free.
PEOPLE = [
    {"given_names": "Aino Maria", "surname": "Esimerkki", "national_id": "150385-226A",
     "email": "aino.esimerkki@demo.kuulo.test", "phone": "+358 40 111 2222", "street_address": "Kirjastokatu 5 A 3",
     "postal_code": "00100", "city": "Helsinki", "language": "fi", "eligibility_basis": "visual_impairment",
     "preferred_formats": ["audiobook", "cd_audiobook"]},
    {"given_names": "Elsa", "surname": "Exempel", "national_id": "070915A4826", "email": "elsa.familj@demo.kuulo.test",
     "street_address": "Biblioteksgatan 2", "postal_code": "65100", "city": "Vasa", "language": "sv",
     "eligibility_basis": "reading_disability", "preferred_formats": ["audiobook", "e_text"],
     "guardian_name": "Karin Exempel", "guardian_contact": "+358 50 333 4444", "guardian_consent": True},
]


def load(session: Session, now: datetime) -> dict[str, Any]:
    staff = session.scalar(select(StaffUser).where(StaffUser.email == DEMO_LIBRARIAN))
    if staff is None or staff.library is None:
        return {"new registrations": 0}
    c = current_app.config  # the demo runs inside `flask demo`, with the app's settings
    settings = service.RegistrationSettings(identity_key=c["IDENTITY_HASH_KEY"], base_url=c["BASE_URL"],
                                            link_hours=int(c.get("REGISTRATION_LINK_HOURS", 14 * 24)))
    created = sum(service.register_patron(session, person, staff=staff, now=now, settings=settings,
                                          channel="demo").created for person in PEOPLE)
    return {"new registrations": created}

