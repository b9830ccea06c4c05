"""Outbox delivery job: claims due messages, sends them, records the outcome. Safe to run twice.

Each message is claimed (status ``sending`` with a lease) and committed before it is sent, so a
second scheduler or a re-run never picks it up at the same time; a message whose send failed goes
back to ``pending`` with exponential backoff; one whose process died mid-send is retried after its
lease ends with the same Message-ID.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.notify.channels import Channel, DeliveryError
from app.notify.models import OutboxMessage

LEASE = timedelta(minutes=5)
BATCH = 100


def claim_due(session: Session, now: datetime, limit: int = BATCH) -> list[int]:
    due = (or_(OutboxMessage.status == "pending",
               (OutboxMessage.status == "sending") & (OutboxMessage.lease_until < now)))
    rows = session.scalars(select(OutboxMessage).where(due, OutboxMessage.channel.in_(("email", "sms")),
                                                       OutboxMessage.next_attempt_at <= now)
                           .order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)).all()
    for row in rows:
        row.status, row.lease_until = "sending", now + LEASE
    return [r.id for r in rows]


def deliver_outbox(sm: sessionmaker[Session], now: datetime, channels: dict[str, Channel],
                   max_attempts: int = 8, backoff_seconds: int = 60) -> dict[str, int]:
    with sm.begin() as session:
        ids = claim_due(session, now)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for message_id in ids:
        with sm.begin() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            try:
                channels[message.channel].send(message)
            except DeliveryError as exc:
                message.attempts += 1
                message.last_error = str(exc)[:500]
                if message.attempts >= max_attempts:
                    message.status = "failed"
                    counts["failed"] += 1
                else:
                    message.status = "pending"
                    message.next_attempt_at = now + timedelta(seconds=backoff_seconds * 2 ** (message.attempts - 1))
                    counts["retry"] += 1
                message.lease_until = None
                continue
            message.attempts += 1
            message.status, message.sent_at, message.lease_until, message.last_error = "sent", now, None, ""
            counts["sent"] += 1
    return counts
