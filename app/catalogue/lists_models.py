"""Tables of a patron's own catalogue: favourites lists with their entries, saved searches and the alerts
sent for them (Tampere's [003]).

- A favourites list belongs to one patron; a public list has an unguessable ``share_token`` (a link that
  anyone may read without logging in; a new link or making the list private revokes the old one).
- A saved search keeps the search (text and facets, as the catalogue page takes them) and how often it
  alerts. ``seen_record_id`` is its watermark: records with a higher id are new to it.
- One ``SearchAlert`` row per saved search and period ("d2026-11-23", "w2026-W48") records that the period
  was handled, with the outbox key of its email ("" when nothing was new): a job run twice sends nothing twice.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

FREQUENCIES = ("none", "daily", "weekly")


class FavouriteList(Base):
    __tablename__ = "catalogue_fav_lists"
    __table_args__ = (UniqueConstraint("patron_id", "name", name="uq_catalogue_fav_lists_patron_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FavouriteEntry(Base):
    __tablename__ = "catalogue_fav_entries"
    __table_args__ = (UniqueConstraint("list_id", "record_id", name="uq_catalogue_fav_entries_list_record"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("catalogue_fav_lists.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("catalogue_records.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(String(2000), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SavedSearch(Base):
    __tablename__ = "catalogue_saved_searches"
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # {"q", "material_type", "language", "available_at", "years", "age_rating"}: the catalogue page's arguments
    query: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    frequency: Mapped[str] = mapped_column(String(10), default="none", index=True)
    seen_record_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SearchAlert(Base):
    __tablename__ = "catalogue_search_alerts"
    __table_args__ = (UniqueConstraint("saved_search_id", "period", name="uq_catalogue_search_alerts_period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    saved_search_id: Mapped[int] = mapped_column(ForeignKey("catalogue_saved_searches.id", ondelete="CASCADE"),
                                                 index=True)
    period: Mapped[str] = mapped_column(String(20))
    outbox_key: Mapped[str] = mapped_column(String(200), default="")
    record_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
