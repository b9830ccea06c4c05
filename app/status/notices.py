"""Telling people, always through the outbox with one unique key per logical message.

- Subscribers (confirmed, per component and language) hear of every announcement and timeline entry.
- Every patron with an email address gets an advance notice of a planned window (STATUS_NOTICE_DAYS
  ahead, 21 by default, as Celia did), a reminder the day before, and a message when a window they
  were told about is rescheduled, cancelled or completed.
A job run twice, or a request retried, finds the keys taken and sends nothing twice.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Patron
from app.notify import service as notify
from app.status.models import Incident, Maintenance, NoticeOptOut, StatusUpdate, Subscription
from app.status.texts import pick

OPT_OUT_SALT = "kuulo.status.notice-optout"
UNSUBSCRIBE_SALT = "kuulo.status.unsubscribe"


def signer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def public_url(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def event_path(event: Maintenance | Incident) -> str:
    kind = "maintenance" if isinstance(event, Maintenance) else "incidents"
    return f"/status/{kind}/{event.id}"


def _ref(event: Maintenance | Incident) -> str:
    return f"m{event.id}" if isinstance(event, Maintenance) else f"i{event.id}"


def _components(event: Maintenance | Incident) -> list[str]:
    if isinstance(event, Maintenance):
        return list(event.components)
    return list(dict.fromkeys([*(event.affected_components or []), *event.component_statuses]))


def _context(event: Maintenance | Incident, entry: StatusUpdate | None, language: str) -> dict[str, Any]:
    body = pick(entry.bodies, language) if entry is not None else None
    return {"title": pick(event.titles, language).text, "body": body.text if body else "",
            "kind": entry.kind if entry is not None else "", "link": public_url(event_path(event)),
            "is_maintenance": isinstance(event, Maintenance), "components": _components(event),
            "starts": getattr(event, "scheduled_for", None), "ends": getattr(event, "scheduled_until", None),
            "state": entry.status if entry is not None else "", "language": language}


def _subscribers(session: Session, components: list[str]) -> Iterator[Subscription]:
    rows = session.scalars(select(Subscription).where(Subscription.confirmed_at.is_not(None),
                                                      Subscription.unsubscribed_at.is_(None))
                           .order_by(Subscription.id))
    return (s for s in rows if s.wants(components))


def unsubscribe_link(subscription: Subscription) -> str:
    return public_url(f"/status/unsubscribe/{signer(UNSUBSCRIBE_SALT).dumps(subscription.id)}")


def opt_out_link(patron_id: int) -> str:
    return public_url(f"/status/notices/stop/{signer(OPT_OUT_SALT).dumps(patron_id)}")


def tell_subscribers(session: Session, event: Maintenance | Incident, entry: StatusUpdate, *, now: datetime,
                     template: str = "status_update") -> int:
    count = 0
    for sub in _subscribers(session, _components(event)):
        context = _context(event, entry, sub.language) | {"stop_link": unsubscribe_link(sub), "audience": "subscriber"}
        notify.enqueue(session, key=f"status:{_ref(event)}:u{entry.id}:s{sub.id}", channel="email",
                       recipient=sub.email, template=template, language=sub.language, context=context, now=now)
        count += 1
    return count


def _patrons(session: Session, created_since: datetime | None = None) -> Iterator[tuple[int, str, str]]:
    opted_out = select(NoticeOptOut.patron_id)
    query = (select(Patron.id, Patron.email, Patron.language)
             .where(Patron.active.is_(True), Patron.email != "", Patron.id.not_in(opted_out)).order_by(Patron.id))
    if created_since is not None:
        query = query.where(Patron.created_at >= created_since)
    for row in session.execute(query):
        yield row[0], row[1], row[2]


def _tell_patrons(session: Session, m: Maintenance, entry: StatusUpdate | None, *, key: str, template: str,
                  now: datetime, created_since: datetime | None = None) -> int:
    count = 0
    languages = current_app.config.get("LANGUAGES", ["fi", "sv", "en"])
    for patron_id, email, language in _patrons(session, created_since):
        language = language if language in languages else languages[0]
        context = _context(m, entry, language) | {"stop_link": opt_out_link(patron_id), "audience": "patron"}
        notify.enqueue(session, key=f"status:m{m.id}:{key}:p{patron_id}", channel="email", recipient=email,
                       template=template, language=language, context=context, now=now)
        count += 1
    return count


def tell_everyone(session: Session, m: Maintenance, entry: StatusUpdate, kind: str, *, now: datetime) -> int:
    """A reschedule, cancellation or completion: subscribers, and the patrons already given notice."""
    template = f"status_{kind}"
    count = tell_subscribers(session, m, entry, now=now, template=template)
    if m.advance_sent_at is not None:
        count += _tell_patrons(session, m, entry, key=f"u{entry.id}", template=template, now=now)
    return count


def send_advance_notices(session: Session, now: datetime, days: float) -> int:
    """Advance notices (and, the day before, reminders) of the windows coming up; safe to run twice."""
    sent = 0
    rows = session.scalars(select(Maintenance).where(
        Maintenance.state == "scheduled", Maintenance.cancelled_at.is_(None), Maintenance.completed_at.is_(None),
        Maintenance.scheduled_for > now, Maintenance.scheduled_for <= now + timedelta(days=days))
        .order_by(Maintenance.scheduled_for)).all()
    for m in rows:
        reminder_due = now >= m.scheduled_for - timedelta(days=1)
        if m.advance_sent_at is None:
            sent += _tell_patrons(session, m, None, key="advance", template="status_advance", now=now)
            m.advance_sent_at = now
            if reminder_due:  # announced less than a day ahead: the notice is the reminder
                m.reminder_sent_for = m.scheduled_for
        else:  # patrons who joined after the notice went out
            sent += _tell_patrons(session, m, None, key="advance", template="status_advance", now=now,
                                  created_since=m.advance_sent_at)
        if reminder_due and m.reminder_sent_for != m.scheduled_for:
            sent += _send_reminders(session, m, now)
            m.reminder_sent_for = m.scheduled_for
    session.flush()
    return sent


def _send_reminders(session: Session, m: Maintenance, now: datetime) -> int:
    key = f"reminder:{m.scheduled_for:%Y%m%dT%H%M}"
    count = _tell_patrons(session, m, None, key=key, template="status_reminder", now=now)
    for sub in _subscribers(session, list(m.components)):
        context = _context(m, None, sub.language) | {"stop_link": unsubscribe_link(sub), "audience": "subscriber"}
        notify.enqueue(session, key=f"status:m{m.id}:{key}:s{sub.id}", channel="email", recipient=sub.email,
                       template="status_reminder", language=sub.language, context=context, now=now)
        count += 1
    return count
