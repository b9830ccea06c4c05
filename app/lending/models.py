"""Tables owned by lending: audiobooks and their tracks, e-loans, listening positions."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime


class Audiobook(Base):
    """One title as ingested from audio files. ``identifier`` is stable across re-ingests (see ingest.py)."""

    __tablename__ = "lending_audiobooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200), unique=True)  # a URI: urn:isbn:… or urn:uuid:…
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(300), default="")
    narrator: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str] = mapped_column(String(35), default="")  # BCP 47
    duration: Mapped[float] = mapped_column(Float)  # seconds, all tracks
    size: Mapped[int] = mapped_column(Integer)  # bytes, all tracks
    # Where the current version's files live: "audiobooks/<id-hash>/<content-hash>/"; a re-ingest
    # uploads a new version beside it and switches this in one transaction.
    storage_prefix: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 over every source file, in order
    source_name: Mapped[str] = mapped_column(String(300), default="")  # the file or folder ingested
    # Table of contents: [{"title", "track", "start", "children": [...]}] (track 1-based, start in s).
    toc: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    available: Mapped[bool] = mapped_column(Boolean, default=True)  # False = withdrawn from new loans
    # The cover image in the media store (beside the tracks), when the source had one: JPEG or PNG.
    cover_key: Mapped[str | None] = mapped_column(String(400))
    cover_type: Mapped[str | None] = mapped_column(String(40))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    tracks: Mapped[list[AudiobookTrack]] = relationship(
        back_populates="audiobook", cascade="all, delete-orphan", order_by="AudiobookTrack.number")


class AudiobookTrack(Base):
    """One audio file of a book; ``number`` (1-based) is the stable track id used in URLs."""

    __tablename__ = "lending_tracks"
    __table_args__ = (UniqueConstraint("audiobook_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    audiobook_id: Mapped[int] = mapped_column(ForeignKey("lending_audiobooks.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    storage_key: Mapped[str] = mapped_column(String(400))
    media_type: Mapped[str] = mapped_column(String(40))
    duration: Mapped[float] = mapped_column(Float)
    bitrate: Mapped[int] = mapped_column(Integer)  # kbps
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))

    audiobook: Mapped[Audiobook] = relationship(back_populates="tracks")


class EbookLoan(Base):
    """An e-loan of an audiobook. It ends by itself at ``until``; ``ended_at`` records how it ended.

    ``active_key`` is "<patron>:<book>" while the loan is active and NULL once it ended: its unique
    constraint allows one active loan per patron and book on every database (NULLs never clash),
    which makes a double borrow idempotent even when two requests race.
    """

    __tablename__ = "lending_loans"
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    audiobook_id: Mapped[int] = mapped_column(ForeignKey("lending_audiobooks.id", ondelete="CASCADE"), index=True)
    active_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))  # "returned" | "expired" | "withdrawn"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    audiobook: Mapped[Audiobook] = relationship()


class ListeningPosition(Base):
    """Where a patron is in a book: one row per patron and book, kept across loans.

    ``recorded_at`` is the client's timestamp of the position: the latest one wins, whatever
    order the requests arrive in (a phone that was offline syncs an older position later).
    """

    __tablename__ = "lending_positions"
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), primary_key=True)
    audiobook_id: Mapped[int] = mapped_column(ForeignKey("lending_audiobooks.id", ondelete="CASCADE"),
                                              primary_key=True)
    track: Mapped[int] = mapped_column(Integer)  # AudiobookTrack.number
    offset_seconds: Mapped[float] = mapped_column(Float)  # seconds into the track
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    device: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


from app.lending.dodp import models as _dodp_models  # noqa: E402,F401  (the DAISY Online endpoint's tables)
