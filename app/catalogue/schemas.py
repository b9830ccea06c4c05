"""The JSON bodies of the catalogue API: search results with availability and facets, one record."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from app.catalogue.models import MATERIAL_TYPES
from app.catalogue.search import SORTS
from app.platform.contract import Answer, Query

MaterialType = Literal[MATERIAL_TYPES]  # type: ignore[valid-type]


class RecordsQuery(Query):
    q: Annotated[str, Field(max_length=200, description="Words (prefix match) or one identifier: ISBN, "
                                                        "barcode, control number")] = ""
    material_type: MaterialType | None = None
    language: Annotated[str, Field(max_length=3, pattern="^[a-z]{2,3}$",
                                   description="MARC language code: fin, swe, eng …")] | None = None
    available_at: Annotated[str, Field(max_length=40, description="Branch code: a copy on its shelf now")] | None = None
    years: Annotated[str, Field(max_length=9, pattern=r"^\d{1,4}-\d{1,4}$", description="e.g. 2010-2019")] | None = None
    sort: Literal[SORTS] = "relevance"  # type: ignore[valid-type]
    page: Annotated[int, Field(ge=1, le=10_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 20


class BranchAvailability(Answer):
    code: str
    name: str
    library: str
    copies: int
    available: int = Field(description="On the shelf now")
    on_loan: int
    in_transit: int
    on_hold_shelf: int
    shelf_locations: list[str]
    due_dates: list[date] = Field(description="Local due dates of the copies on loan, earliest first")


class Availability(Answer):
    copies: int
    available: int
    holds: int = Field(description="Active holds on the title")
    holdable: bool = Field(description="Some copy can be reserved")
    transportable: bool
    online: bool = Field(description="An e-audiobook: borrowed online, no copies")
    branches: list[BranchAvailability]


class Author(Answer):
    name: str
    role: str


class RecordSummary(Answer):
    id: int
    title: str
    authors: list[str]
    year: int | None
    isbns: list[str]
    material_type: MaterialType
    language: str
    availability: Availability


class FacetValue(Answer):
    value: str
    count: int


class Facets(Answer):
    material_type: list[FacetValue] = []
    language: list[FacetValue] = []
    years: list[FacetValue] = []
    age_rating: list[FacetValue] = []
    available_at: list[FacetValue] = []


class Records(Answer):
    records: list[RecordSummary]
    total: int
    page: int
    facets: Facets


class RecordDetail(RecordSummary):
    control_number: str
    record_key: str
    subtitle: str
    responsibility: str
    contributors: list[Author]
    publisher: str
    edition: str
    issns: list[str]
    subjects: list[str]
    genres: list[str]
    series: list[str]
    age_rating: int | None
    physical_description: str
    notes: list[str]
    cover_isbn: str
