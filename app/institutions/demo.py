"""Demo applications in every state of the queue, made through the real services. Loading twice adds nothing."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import StaffUser
from app.institutions import business_days, service
from app.institutions.models import InstitutionApplication
from app.institutions.validation import parse_application

REVIEWER_EMAIL = "reviewer@demo.kuulo.test"
# (name, type, business ID, responsible person's identity code, business days ago, what happens next)
APPLICATIONS = [
    ("Hervannan koulu", "school", "0211675-2", "120575-234N", 4, "waits"),
    ("Päiväkoti Satakieli", "daycare", "2345678-0", "030482-4561", 0, "waits"),
    ("Palvelukoti Kotiranta", "care_home", "4567891-5", "221168-345R", 2, "question"),
    ("Kirjastopalvelu Lukulamppu", "library", "5678912-7", "090791-5677", 3, "approve"),
    ("Harrastusyhdistys Esimerkki", "other", "1112223-0", "150380-123P", 3, "reject"),
]


def _business_days_before(now: datetime, days: int) -> datetime:
    moment = now
    while business_days.elapsed(moment, now) < days:
        moment -= timedelta(days=1)
    return moment


def _raw(name: str, kind: str, business_id: str, national_id: str) -> dict[str, Any]:
    slug = name.split()[-1].lower().replace("ä", "a").replace("ö", "o")
    return {"name": name, "type": kind, "business_id": business_id, "street_address": "Kirjastokatu 1",
            "postal_code": "33100", "city": "Tampere", "email": f"{slug}@demo.kuulo.test", "phone": "+358401234567",
            "responsible_person": {"given_names": "Vastuu", "surname": "Henkilö", "national_id": national_id,
                                   "email": f"vastuu.{slug}@demo.kuulo.test", "phone": ""},
            "consent": True}


def load(session: Session, now: datetime) -> dict[str, Any]:
    from app.institutions import replies

    canned = replies.load_demo(session, now)
    if session.scalar(select(InstitutionApplication.id).where(
            InstitutionApplication.business_id == APPLICATIONS[0][2]).limit(1)) is not None:
        return {"new institution applications": 0, "new canned replies": canned}
    config = current_app.config
    settings = service.Settings(base_url=config["BASE_URL"].rstrip("/"), identity_key=config["IDENTITY_HASH_KEY"])
    reviewer = session.scalar(select(StaffUser).where(StaffUser.email == REVIEWER_EMAIL))
    for name, kind, business_id, national_id, days_ago, next_step in APPLICATIONS:
        sent_at = _business_days_before(now, days_ago)
        application = service.submit_application(session, parse_application(_raw(name, kind, business_id, national_id)),
                                                 settings=settings, language="fi", now=sent_at).application
        if reviewer is None or next_step == "waits":
            continue
        service.claim(session, application.id, reviewer=reviewer, now=now, settings=settings)
        if next_step == "question":
            service.request_information(session, application.id, reviewer=reviewer, now=now, settings=settings,
                                        text="Lähettäisittekö vielä vastuuhenkilön allekirjoittaman suostumuksen?")
        elif next_step == "approve":
            service.approve(session, application.id, reviewer=reviewer, now=now, settings=settings)
        else:
            service.reject(session, application.id, reviewer=reviewer, now=now, settings=settings,
                           reason="Yhdistys ei ole laitos tai yhteisö, jolle Kuulo myöntää tunnukset.")
    return {"new institution applications": len(APPLICATIONS), "new canned replies": canned}
