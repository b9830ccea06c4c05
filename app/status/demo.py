"""Demo data: a completed maintenance break in the past (with its timeline) and one ~3 weeks ahead."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.status.models import Maintenance, StatusUpdate

ACTOR = "system:demo"
HELSINKI = ZoneInfo("Europe/Helsinki")
PAST_UID = "demo-past-maintenance@kuulo"
UPCOMING_UID = "demo-upcoming-maintenance@kuulo"


def _update(status: str, kind: str, at: datetime, bodies: dict[str, str] | None = None) -> StatusUpdate:
    return StatusUpdate(status=status, kind=kind, bodies=bodies or {}, display_at=at, created_at=at, created_by=ACTOR)


def _local(day: datetime, hour: int) -> datetime:
    """``hour`` o'clock in Helsinki on ``day``'s date, as UTC (the demo texts speak of Finnish time)."""
    local = day.astimezone(HELSINKI).replace(hour=hour, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _past(now: datetime) -> Maintenance:
    start = _local(now - timedelta(days=30), 9)
    done = start + timedelta(minutes=55)
    announced = start - timedelta(days=21)
    return Maintenance(
        uid=PAST_UID, components=["login", "search", "web_library"], scheduled_for=start,
        scheduled_until=start + timedelta(hours=2), reads_open=False, state="completed", completed_at=done,
        sequence=3, advance_sent_at=announced, reminder_sent_for=start, created_by=ACTOR, created_at=announced,
        updated_at=done,
        titles={"fi": "Verkkokirjaston päivitys", "sv": "Uppdatering av webbiblioteket",
                "en": "Web library upgrade"},
        updates=[
            _update("scheduled", "created", announced, {
                "fi": "Päivitämme verkkokirjaston. Kirjautuminen ja haku eivät toimi katkon aikana.",
                "sv": "Vi uppdaterar webbiblioteket. Inloggning och sökning fungerar inte under avbrottet.",
                "en": "We are upgrading the web library. Login and search do not work during the break."}),
            _update("in_progress", "started", start),
            _update("completed", "completed", done, {
                "fi": "Muokattu klo 9.55: käyttökatko on päättynyt. Palvelut toimivat taas normaalisti.",
                "sv": "Redigerat kl. 9.55: avbrottet är över. Tjänsterna fungerar normalt igen.",
                "en": "Edited at 9:55: the downtime is over. The services work normally again."}),
        ])


def _upcoming(now: datetime) -> Maintenance:
    start = _local(now + timedelta(days=21), 8)
    return Maintenance(
        uid=UPCOMING_UID, components=["registration", "password_reset", "institution_applications", "reader_apps"],
        scheduled_for=start, scheduled_until=start + timedelta(days=5, hours=10), reads_open=True,
        state="scheduled", sequence=0, created_by=ACTOR, created_at=now, updated_at=now,
        titles={"fi": "E-kirjasto siirtyy uuteen järjestelmään", "sv": "E-biblioteket flyttar till ett nytt system",
                "en": "The e-library moves to a new system"},
        updates=[_update("scheduled", "created", now, {
            "fi": "Katkon aikana ei voi rekisteröityä, vaihtaa salasanaa eikä lainata uusia kirjoja. "
                  "Ladatut kirjat toimivat lukusovelluksissa, ja CD-kerhot lähtevät aikataulussa.",
            "sv": "Under avbrottet kan man inte registrera sig, byta lösenord eller låna nya böcker. "
                  "Nedladdade böcker fungerar i läsapparna och CD-klubbarna skickas enligt schemat.",
            "en": "During the break you cannot register, reset a password or borrow new books. Downloaded "
                  "books keep playing in the reader apps, and CD clubs go out on schedule."})])


def load_demo(session: Session, now: datetime) -> dict[str, Any]:
    existing = set(session.scalars(select(Maintenance.uid).where(Maintenance.uid.in_([PAST_UID, UPCOMING_UID]))))
    created = 0
    for uid, make in ((PAST_UID, _past), (UPCOMING_UID, _upcoming)):
        if uid not in existing:
            session.add(make(now))
            created += 1
    session.flush()
    return {"new maintenance breaks": created}
