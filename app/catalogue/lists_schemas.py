"""JSON bodies of the patron's own catalogue API: favourites lists and saved searches."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from app.platform.contract import Answer, Body, Id, Text

Frequency = Literal["none", "daily", "weekly"]


class FavouriteEntry(Answer):
    id: int
    record_id: int
    title: str
    authors: list[str]
    year: int | None = None
    material_type: str
    note: str
    keywords: list[str]
    added_at: datetime


class FavouriteList(Answer):
    id: int
    name: str
    description: str
    public: bool
    share_url: str | None = Field(None, description="Readable without login while the list is public")
    entries: list[FavouriteEntry]


class FavouriteLists(Answer):
    lists: list[FavouriteList]


class AddEntry(Body):
    record_id: Id
    list_id: Id | None = Field(None, description="One of my lists; none: my first list (made when I have none)")


class EntryAdded(Answer):
    list_id: int
    list_name: str
    added: bool = Field(description="False: the record was on the list already")


class SavedSearch(Answer):
    id: int
    name: str
    query: dict[str, str] = Field(description="The search as the catalogue page takes it (/catalogue?…): q, "
                                              "material_type, language, available_at, years, age_rating")
    frequency: Frequency
    created_at: datetime
    last_alert_at: datetime | None = None


class SavedSearches(Answer):
    saved_searches: list[SavedSearch]


class SaveSearch(Body):
    q: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\w",
                            description="The words of the search (at least one letter or digit)")]
    name: Text(100, "Default: the words") = ""
    frequency: Frequency = "none"
    material_type: Text(20) = ""
    language: Text(3) = ""
    available_at: Text(40) = ""
    years: Annotated[str, Field(max_length=9, pattern=r"^(\d{1,4}-\d{1,4})?$")] = ""
    age_rating: Annotated[int, Field(ge=0, le=99)] | None = None
