"""Canned replies of the review queue: admins keep them (fi/sv/en); reviewers pick one when asking the
applicant something or rejecting, and may edit the text before sending. The applicant's language is sent."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.errors import DomainError
from app.institutions.models import REPLY_KINDS, InstitutionApplication, ReviewReply

RECORD = "institution_review_reply"
LANGUAGES = ("fi", "sv", "en")


@dataclass(frozen=True)
class ReplyData:
    kind: str
    title: str
    texts: dict[str, str]  # language → text
    active: bool = True

    def errors(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        if self.kind not in REPLY_KINDS:
            found["kind"] = ["required"]
        if not self.title.strip():
            found["title"] = ["required"]
        if not self.texts.get("fi", "").strip():
            found["text_fi"] = ["required"]
        return found


def replies(session: Session, kind: str | None = None, *, active_only: bool = True) -> list[ReviewReply]:
    query = select(ReviewReply).order_by(ReviewReply.kind, ReviewReply.title, ReviewReply.id)
    if kind:
        query = query.where(ReviewReply.kind == kind)
    if active_only:
        query = query.where(ReviewReply.active.is_(True))
    return list(session.scalars(query))


def get(session: Session, reply_id: int) -> ReviewReply:
    reply = session.get(ReviewReply, reply_id)
    if reply is None:
        raise DomainError("not-found", 404)
    return reply


def save(session: Session, data: ReplyData, *, reply_id: int | None = None, actor: Any, now: datetime) -> ReviewReply:
    """Add a canned reply, or change one (texts, title, retire or bring back). Audited."""
    if data.errors():
        raise DomainError("validation-error", 422, errors=data.errors())
    reply = get(session, reply_id) if reply_id is not None else ReviewReply()
    reply.kind, reply.title, reply.active, reply.updated_at = data.kind, data.title.strip(), data.active, now
    for lang in LANGUAGES:
        setattr(reply, f"text_{lang}", data.texts.get(lang, "").strip())
    session.add(reply)
    session.flush()
    audit.record(session, actor=actor, action="institution_review_reply.saved", now=now, record_type=RECORD,
                 record_id=reply.id, kind=reply.kind, title=reply.title, active=reply.active)
    return reply


def text_for(session: Session, reply_id: int | None, kind: str, application: InstitutionApplication) -> str:
    """The text of an active canned reply of ``kind`` in the applicant's language, or "" for none."""
    if not reply_id:
        return ""
    reply = session.get(ReviewReply, reply_id)
    if reply is None or not reply.active or reply.kind != kind:
        return ""
    return reply.text_in(application.language)


DEMO = [
    ("question", "Allekirjoitettu suostumus puuttuu",
     {"fi": "Hakemuksesta puuttuu vastuuhenkilön allekirjoittama suostumus. Lähetäthän sen liitteenä (PDF, JPEG "
            "tai PNG) vastaamalla tähän viestiin hakemuksen omalla linkillä.",
      "sv": "Ansökan saknar den ansvariga personens undertecknade samtycke. Skicka det som bilaga (PDF, JPEG eller "
            "PNG) genom att svara via ansökans egen länk.",
      "en": "The application lacks the responsible person's signed consent. Please send it as an attachment (PDF, "
            "JPEG or PNG) by answering through the application's own link."}),
    ("rejection", "Ei kirjaston palvelujen piiriin kuuluva yhteisö",
     {"fi": "Kuulon yhteisötunnukset on tarkoitettu kouluille, päiväkodeille, hoivakodeille ja kirjastoille, joiden "
            "asiakkailla on lukemisesteitä. Hakemuksen perusteella yhteisö ei kuulu tähän joukkoon.",
      "sv": "Kuulos konton för sammanslutningar är avsedda för skolor, daghem, vårdhem och bibliotek vars kunder har "
            "läsnedsättningar. Enligt ansökan hör sammanslutningen inte till dem.",
      "en": "Kuulo's institution accounts are meant for schools, day-care centres, care homes and libraries whose "
            "people have print disabilities. According to the application, the institution is not one of them."}),
]


def load_demo(session: Session, now: datetime) -> int:
    """The demo's canned replies (once: looked up by title)."""
    made = 0
    for kind, title, texts in DEMO:
        if session.scalar(select(ReviewReply.id).where(ReviewReply.title == title)) is None:
            save(session, ReplyData(kind, title, texts), actor="system:demo", now=now)
            made += 1
    return made
