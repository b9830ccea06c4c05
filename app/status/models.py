"""Tables owned by the status package: maintenance windows, incidents, their timelines, subscriptions.

Components are not a table: they are Kuulo's services (``app.gate.COMPONENTS``) with names in code
(``app/status/texts.py``); their status is computed from the windows and incidents that touch them.
Every human text is a JSON object ``{"fi": …, "sv": …, "en": …}`` written by the editors.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime

# Statuspage's vocabularies (https://developer.statuspage.io): kept verbatim for the /api/v2 JSON.
COMPONENT_STATUSES = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")
MAINTENANCE_STATES = ("scheduled", "in_progress", "verifying", "completed")
INCIDENT_STATES = ("investigating", "identified", "monitoring", "resolved")
IMPACTS = ("none", "minor", "major", "critical")


class Maintenance(Base):
    """A planned window: it starts and ends by itself (the state is computed from the clock on read)."""

    __tablename__ = "status_maintenances"
    id: Mapped[int] = mapped_column(primary_key=True)
    # iCalendar UID: never changes, so calendars update the event instead of adding a new one.
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    components: Mapped[list[str]] = mapped_column(JSON, default=list)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    scheduled_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # True: reading a patron's own data (GET) stays open while new work is refused.
    reads_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # The state last written by an editor or the job; readers compute the state from the clock.
    state: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # iCalendar SEQUENCE: raised on every change of the window or its timeline.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    advance_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_for: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the start the reminder was about
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    updates: Mapped[list[StatusUpdate]] = relationship(
        back_populates="maintenance", order_by="StatusUpdate.display_at, StatusUpdate.id",
        cascade="all, delete-orphan")


class Incident(Base):
    """An unplanned disruption: investigating → identified → monitoring → resolved."""

    __tablename__ = "status_incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    impact: Mapped[str] = mapped_column(String(20), default="minor")
    status: Mapped[str] = mapped_column(String(20), default="investigating", index=True)
    # {"login": "major_outage", …}: the status each affected component has while the incident is open.
    component_statuses: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Every component the incident ever affected, kept after they recover (the history says what was hit).
    affected_components: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    reads_open: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    monitoring_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    updates: Mapped[list[StatusUpdate]] = relationship(
        back_populates="incident", order_by="StatusUpdate.display_at, StatusUpdate.id",
        cascade="all, delete-orphan")


class StatusUpdate(Base):
    """One entry of a timeline ("Edited at 9:55: the downtime is over"), with its own time and texts."""

    __tablename__ = "status_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    maintenance_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_maintenances.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("status_incidents.id", ondelete="CASCADE"),
                                                    index=True)
    status: Mapped[str] = mapped_column(String(20))  # the event's state when this update was written
    # "note" (an editor's text), or what happened: started, completed, rescheduled, cancelled, created.
    kind: Mapped[str] = mapped_column(String(20), default="note")
    bodies: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The states of the event's components when this update was written ({"login": "major_outage", …}).
    component_states: Mapped[dict[str, str] | None] = mapped_column(JSON, default=dict)
    display_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    # Updates written by the job ("the break has started") carry a key, so a second run adds none.
    auto_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    maintenance: Mapped[Maintenance | None] = relationship(back_populates="updates")
    incident: Mapped[Incident | None] = relationship(back_populates="updates")


class Subscription(Base):
    """An email subscription to status news: confirmed by a link (double opt-in), per component and language."""

    __tablename__ = "status_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    language: Mapped[str] = mapped_column(String(5), default="fi")
    components: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every component
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def wants(self, components: Any) -> bool:
        return not self.components or bool(set(self.components) & set(components))


class NoticeOptOut(Base):
    """A patron who asked not to get advance notices of maintenance breaks by email."""

    __tablename__ = "status_notice_optouts"
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
