"""What the outbox holds, for the admin page: counts by state, messages of a state, "retry now" and "cancel".

The states people see are finer than the ``status`` column: a ``pending`` message that has been tried
already is *retrying* (it waits for its backoff), the others are *waiting*.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app import audit
from app.errors import DomainError
from app.notify.models import OutboxMessage

# Filters of the page, in the order shown. "sent" lists the recently sent only (SENT_RECENT).
VIEWS = ("pending", "retrying", "sending", "failed", "sent", "cancelled")
SENT_RECENT = timedelta(days=7)
LIST_LIMIT = 200
SENT_CHANNELS = ("email", "sms")  # letters have their own page (printing)


def _view_of() -> Any:
    m = OutboxMessage
    return case((((m.status == "pending") & (m.attempts > 0)), "retrying"), else_=m.status)


def counts(session: Session) -> dict[str, int]:
    """Messages of email and SMS per view (every sent message, however old, in "sent")."""
    view = _view_of()
    rows = session.execute(select(view, func.count()).where(OutboxMessage.channel.in_(SENT_CHANNELS))
                           .group_by(view))
    found = {name: int(count) for name, count in rows}
    return {name: found.get(name, 0) for name in VIEWS}


def messages(session: Session, view: str, now: datetime, limit: int = LIST_LIMIT) -> list[OutboxMessage]:
    """The messages of ``view`` (one of VIEWS), oldest waiting first; sent ones newest first (last 7 days)."""
    if view not in VIEWS:
        raise DomainError("unknown-state", 422, field="state")
    m = OutboxMessage
    query = select(m).where(m.channel.in_(SENT_CHANNELS)).limit(limit)
    if view == "retrying":
        query = query.where(m.status == "pending", m.attempts > 0).order_by(m.next_attempt_at, m.id)
    elif view == "pending":
        query = query.where(m.status == "pending", m.attempts == 0).order_by(m.next_attempt_at, m.id)
    elif view == "sent":
        query = query.where(m.status == "sent", m.sent_at >= now - SENT_RECENT).order_by(m.sent_at.desc(),
                                                                                        m.id.desc())
    else:
        query = query.where(m.status == view).order_by(m.id.desc())
    return list(session.scalars(query))


def _locked(session: Session, message_id: int) -> OutboxMessage:
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                         OutboxMessage.channel.in_(SENT_CHANNELS))
                             .with_for_update())
    if message is None:
        raise DomainError("not-found", 404)
    return message


def retry_now(session: Session, message_id: int, *, now: datetime, actor: Any) -> OutboxMessage:
    """Make a waiting, retrying or failed message due at once (a failed one gets its attempts back)."""
    message = _locked(session, message_id)
    if message.status not in ("pending", "failed"):
        raise DomainError("outbox-not-retryable", 409, state=message.status)
    before = message.status
    if message.status == "failed":
        message.attempts = 0
    message.status, message.next_attempt_at = "pending", now
    audit.record(session, actor=actor, action="outbox.retry_now", now=now, record_type="outbox_message",
                 record_id=message.id, before=before)
    session.flush()
    return message


def cancel(session: Session, message_id: int, *, now: datetime, actor: Any) -> OutboxMessage:
    """Stop a waiting, retrying or failed message for good (one being sent right now cannot be stopped)."""
    message = _locked(session, message_id)
    if message.status not in ("pending", "failed"):
        raise DomainError("outbox-not-cancellable", 409, state=message.status)
    before = message.status
    message.status = "cancelled"
    audit.record(session, actor=actor, action="outbox.cancelled", now=now, record_type="outbox_message",
                 record_id=message.id, before=before)
    session.flush()
    return message
