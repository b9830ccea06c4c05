"""Enqueueing messages. Rendering happens here, in the recipient's language, at enqueue time."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import insert_ignoring_conflicts
from app.notify.models import CHANNELS, OutboxMessage


def render_message(template: str, language: str, channel: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render ``templates/notify/messages/<template>.txt``: first line is the subject, the rest the body."""
    with force_locale(language):
        text = render_template(f"notify/messages/{template}.txt", channel=channel, **context)
    subject, _, body = text.strip().partition("\n")
    return subject.removeprefix("Subject:").strip(), body.strip() + "\n"


def enqueue(session: Session, *, key: str, channel: str, recipient: str, template: str, language: str,
            context: dict[str, Any], now: datetime) -> bool:
    """Add a message unless one with ``key`` exists; True when it was added.

    INSERT … ON CONFLICT DO NOTHING keeps this safe when two transactions race on the same key.
    """
    subject, body = render_message(template, language, channel, context)
    values = outbox_row(key=key, channel=channel, recipient=recipient, language=language, template=template,
                        subject=subject, body=body, context=context, now=now)
    stmt = insert_ignoring_conflicts(session, OutboxMessage.__table__, index_elements=("key",), returning=("id",))
    return session.execute(stmt, values).first() is not None


def outbox_row(*, key: str, channel: str, recipient: str, language: str, template: str, subject: str, body: str,
               context: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The outbox row of a rendered message, pending delivery from ``now`` — for ``enqueue`` and for
    bulk writers (the nightly job inserts thousands at once with ON CONFLICT on ``key``)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel}")
    return dict(key=key, channel=channel, recipient=recipient, language=language, template=template,
                subject=subject[:300], body=body, context=_json_safe(context), status="pending", attempts=0,
                next_attempt_at=now, created_at=now, last_error="", lease_until=None, sent_at=None)


def _json_safe(context: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (str, int, float, bool, type(None))) else str(v)) for k, v in context.items()}


def letters(session: Session, status: str = "pending") -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "letter",
                                                            OutboxMessage.status == status)
                                .order_by(OutboxMessage.created_at)))


def mark_letters_printed(session: Session, ids: list[int], *, now: datetime, actor: Any) -> int:
    from app import audit

    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                                       OutboxMessage.channel == "letter",
                                                       OutboxMessage.status == "pending")).all()
    for row in rows:
        row.status, row.sent_at = "printed", now
        audit.record(session, actor=actor, action="letter.printed", now=now, record_type="outbox_message",
                     record_id=row.id)
    return len(rows)
