"""The outbox: one row per logical message, written in the same transaction as its cause."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

CHANNELS = ("email", "sms", "letter")
# pending → sending → sent; letters: pending → printed; failed after OUTBOX_MAX_ATTEMPTS.
# "sending" is held by one sender (``lease_owner``) until ``lease_until``; then another may take it over.
STATES = ("pending", "sending", "sent", "failed", "printed", "cancelled")


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique per logical message ("credentials:patron:12"): a retried request cannot enqueue it twice.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(500))  # email address, phone number, or postal address
    language: Mapped[str] = mapped_column(String(5))
    template: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The delivery run that holds the message while it is "sending" ("host:pid:random"; "" when none).
    lease_owner: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
