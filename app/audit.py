"""The audit log: who did what to which record, and when. Written in the caller's transaction."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(300))  # "staff:3 Liisa Librarian", "patron:12", "system:job"
    action: Mapped[str] = mapped_column(String(80), index=True)
    record_type: Mapped[str] = mapped_column(String(60), default="")
    record_id: Mapped[str] = mapped_column(String(60), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def actor_label(actor: Any) -> str:
    """A short, stable text for whoever acted: a staff user, a patron, or a system name (string)."""
    if actor is None:
        return "anonymous"
    if isinstance(actor, str):
        return actor
    kind = "staff" if getattr(actor, "is_staff", False) else "patron"
    return f"{kind}:{actor.id} {getattr(actor, 'name', '')}".strip()


def record(session: Session, *, actor: Any, action: str, now: datetime, record_type: str = "",
           record_id: Any = "", **details: Any) -> AuditEvent:
    """Add an audit event. ``details`` must never contain identity codes, PINs or passwords."""
    event_ = AuditEvent(**event(actor=actor, action=action, now=now, record_type=record_type, record_id=record_id,
                                **details))
    session.add(event_)
    return event_


def event(*, actor: Any, action: str, now: datetime, record_type: str = "", record_id: Any = "",
          **details: Any) -> dict[str, Any]:
    """The row of an audit event, for ``write`` (same rules as ``record``)."""
    return {"at": now, "actor": actor_label(actor), "action": action, "record_type": record_type,
            "record_id": str(record_id), "details": details}


def write(session: Session, *events_: dict[str, Any]) -> None:
    """Insert audit events (rows from ``event``) at once, in one statement — for hot paths."""
    session.execute(_INSERT, list(events_))


_INSERT = insert(AuditEvent.__table__)


def events(session: Session, *, record_type: str = "", record_id: str = "", action: str = "",
           limit: int = 200) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if record_type:
        query = query.where(AuditEvent.record_type == record_type)
    if record_id:
        query = query.where(AuditEvent.record_id == record_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    return list(session.scalars(query))


# ---- events in words ---------------------------------------------------------------------------
# Each domain registers a sentence per action (lazy gettext, placeholders: %(who)s for the actor's name
# and any detail key), so the history of a record and the audit log read as sentences in the reader's
# language, never as codes or JSON. An action without a sentence is shown by its code and details.
SENTENCES: dict[str, Any] = {}


def describe(sentences: dict[str, Any]) -> None:
    SENTENCES.update(sentences)


def actor_name(label: str) -> str:
    """The person in an actor label: "staff:2 Raimo Käsittelijä" → "Raimo Käsittelijä"; others as they are."""
    kind, _, rest = label.partition(":")
    if kind in ("staff", "patron"):
        _number, _, name = rest.partition(" ")
        return name or label
    return label


def sentence(event_: AuditEvent, who: str | None = None) -> str | None:
    """The event as a sentence, or None when its action has none registered."""
    text = SENTENCES.get(event_.action)
    if text is None:
        return None
    params = _Params({k: v for k, v in (event_.details or {}).items() if isinstance(v, str | int | float)})
    params["who"] = who or actor_name(event_.actor)
    return str(text) % params


class _Params(dict):
    """Details for a sentence; one missing from an old event reads as a dash, never an error."""

    def __missing__(self, key: str) -> str:
        return "–"
