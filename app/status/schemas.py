"""The documents of /api/v2/*.json (Atlassian Statuspage's public API v2 shape) and their query."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.platform.contract import Query


class StatusQuery(Query):
    lang: Literal["fi", "sv", "en"] | None = Field(
        None, description="Language of the texts (default: Accept-Language, then Finnish)")


class StatusPage(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: datetime


class StatusDocument(BaseModel):
    """Every document has the page; the rest is as Statuspage's public API v2 answers for this endpoint."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})
    page: StatusPage
