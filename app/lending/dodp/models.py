"""Tables of the DAISY Online endpoint: player sessions, announcements a patron has read, terms accepted."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class DodpSession(Base):
    """A player's session, issued at logOn and carried in an HTTP cookie (only its SHA-256 is stored).

    ``version`` is the protocol the session speaks ("1" or "2"); ``state`` is how far the set-up went:
    "logged_on" (v1: getServiceAttributes and setReadingSystemAttributes still due) or "ready".
    A session ends at logOff (``ended_at``), when revoked, or at ``expires_at`` (idle time runs it on).
    """

    __tablename__ = "dodp_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20), default="logged_on")
    language: Mapped[str] = mapped_column(String(35), default="")  # the player's preferredUILanguage
    # What the player said of itself: {"manufacturer", "model", "version"} (no serial number is kept).
    reading_system: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DodpAnnouncementRead(Base):
    """A patron marked an announcement (a status page event, ``key`` "maintenance-7") as read."""

    __tablename__ = "dodp_announcement_reads"
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), primary_key=True)
    announcement: Mapped[str] = mapped_column(String(60), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DodpTermsAcceptance(Base):
    """A patron accepted the terms of service of version ``terms_version`` (DODP v2)."""

    __tablename__ = "dodp_terms_acceptances"
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), primary_key=True)
    terms_version: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DodpContentState(Base):
    """What a player keeps per patron and book besides the listening position: the patron's own bookmarks and
    highlights (z3986 bookmark XML, as the player sent them) and the last progress state (DODP v2).

    The lastmark is not here: it is the listening position (lending_positions), shared with the reader
    app and the web player."""

    __tablename__ = "dodp_content_states"
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), primary_key=True)
    audiobook_id: Mapped[int] = mapped_column(ForeignKey("lending_audiobooks.id", ondelete="CASCADE"),
                                              primary_key=True)
    items: Mapped[str] = mapped_column(Text, default="")  # <bookmark>/<hilite> elements, serialised
    progress_state: Mapped[str | None] = mapped_column(String(10))  # START, PAUSE, RESUME, FINISH
    first_accessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_accessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
