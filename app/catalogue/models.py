"""Tables owned by the catalogue: bibliographic records (from MARC 21 or from lending's audiobooks).

A record is linked to circulation's copies (``circ_items``) by ``record_key`` ("isbn:978…", "ean:…" or
"cn:<control number>"), the key holds are placed on. Full-text search reads ``search_text``: SQLite keeps
an FTS5 index of it (``catalogue_fts``, kept in step by triggers), PostgreSQL a GIN index over its
``tsvector`` (both made by migration 0130_catalogue).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

MATERIAL_TYPES = ("book", "large_print", "audiobook_cd", "daisy", "e_audiobook", "dvd", "bluray", "console_game",
                  "music_cd", "magazine", "object")


class Record(Base):
    __tablename__ = "catalogue_records"
    __table_args__ = (Index("ix_catalogue_records_material_type_year", "material_type", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # "<003>:<001>" (or the 035 number, or "lending:<identifier>"): what makes a re-import an update.
    control_number: Mapped[str] = mapped_column(String(200), unique=True)
    record_key: Mapped[str] = mapped_column(String(80), index=True)
    source: Mapped[str] = mapped_column(String(20), default="marc")  # marc | lending
    lending_book_id: Mapped[int | None] = mapped_column(ForeignKey("lending_audiobooks.id", ondelete="CASCADE"),
                                                        unique=True)
    title: Mapped[str] = mapped_column(String(500))
    subtitle: Mapped[str] = mapped_column(String(500), default="")
    responsibility: Mapped[str] = mapped_column(String(500), default="")
    authors: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # [{"name", "role"}]
    publisher: Mapped[str] = mapped_column(String(300), default="")
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    edition: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(3), default="", index=True)  # MARC code: fin, swe, eng …
    isbns: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISBN-13, compact
    issns: Mapped[list[str]] = mapped_column(JSON, default=list)
    eans: Mapped[list[str]] = mapped_column(JSON, default=list)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    genres: Mapped[list[str]] = mapped_column(JSON, default=list)
    series: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Indexed by ix_catalogue_records_material_type_year (its leading column).
    material_type: Mapped[str] = mapped_column(String(20))
    age_rating: Mapped[int | None] = mapped_column(Integer)
    physical_description: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    cover_isbn: Mapped[str] = mapped_column(String(13), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    marcxml: Mapped[str] = mapped_column(Text, default="")  # the record as imported (export gives it back)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def author_names(self) -> list[str]:
        return [a.get("name", "") for a in self.authors or []]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "authors": self.author_names(), "year": self.year}


class RecordIdentifier(Base):
    """Exact-lookup identifiers of a record: ISBN-13 and ISBN-10 (compact), ISSN, EAN, control number."""

    __tablename__ = "catalogue_identifiers"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("catalogue_records.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(String(200), index=True)


class Holding(Base):
    """Where a copy of a record stands on the shelf (circulation's item knows only its branch)."""

    __tablename__ = "catalogue_holdings"
    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(40), unique=True)  # circ_items.barcode
    record_id: Mapped[int] = mapped_column(ForeignKey("catalogue_records.id", ondelete="CASCADE"), index=True)
    shelf_location: Mapped[str] = mapped_column(String(100), default="")
    call_number: Mapped[str] = mapped_column(String(100), default="")


from app.catalogue import lists_models  # noqa: E402,F401  (favourites lists, saved searches, alerts)
