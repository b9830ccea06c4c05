"""The documents of /api/v2/*.json (Atlassian Statuspage's public API v2 shape) and their query."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.gate import COMPONENTS
from app.platform.contract import Answer, Body, Query, Text


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


# -- The management API (/api/v1/status/…): what a deploy script sends with an editor's token ------------------

ComponentCode = Literal[COMPONENTS]  # type: ignore[valid-type]  # the ids of /api/v2/components.json
ComponentStatus = Literal["operational", "under_maintenance", "degraded_performance", "partial_outage",
                          "major_outage"]
# ISO 8601 with an offset ("2026-12-03T10:00:00Z"); read from the JSON string even though bodies are strict.
Moment = Annotated[AwareDatetime, Field(strict=False, description="ISO 8601 date and time with an offset")]


class Titles(Body):
    """A name in Finnish, Swedish and English (at least one; a missing one is shown in another, marked)."""

    fi: Text(300) | None = None
    sv: Text(300) | None = None
    en: Text(300) | None = None


class Messages(Body):
    """A message in Finnish, Swedish and English (at least one)."""

    fi: Text(5000) | None = None
    sv: Text(5000) | None = None
    en: Text(5000) | None = None


class MaintenanceCreate(Body):
    name: Titles
    message: Messages | None = None
    scheduled_for: Moment
    scheduled_until: Moment
    components: list[ComponentCode] = Field(min_length=1, max_length=len(COMPONENTS),
                                             description="Ids from /api/v2/components.json: the services that close")
    read_own_data: bool = Field(False, description="People can still read their own data (GET) during the break")


class MaintenancePatch(Body):
    """Reschedule (both times) and/or post an update (``message``); ``verifying`` marks running work as done."""

    scheduled_for: Moment | None = None
    scheduled_until: Moment | None = None
    message: Messages | None = None
    verifying: bool = False


class Closing(Body):
    """Complete, cancel or resolve: an optional closing message."""

    message: Messages | None = None


class IncidentCreate(Body):
    name: Titles
    message: Messages
    status: Literal["investigating", "identified", "monitoring", "resolved"] = "investigating"
    impact: Literal["none", "minor", "major", "critical"] = "minor"
    components: dict[ComponentCode, ComponentStatus] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Component id → status (under_maintenance and major_outage close it)")
    read_own_data: bool = False
    expected_end: Moment | None = None


class IncidentPatch(Body):
    message: Messages
    status: Literal["investigating", "identified", "monitoring", "resolved"] | None = None
    impact: Literal["none", "minor", "major", "critical"] | None = None
    components: dict[ComponentCode, ComponentStatus] | None = Field(  # type: ignore[valid-type]
        None, description="Component id → status; components left out keep their status")
    expected_end: Moment | None = None


class ManagedEvent(Answer):
    """A maintenance or an incident as the management API answers it (ids as in /api/v2)."""

    omit_none: ClassVar[bool] = True
    id: str
    status: str = Field(description="Statuspage's status (a cancelled maintenance reads `completed`)")
    cancelled: bool = False
    name: dict[str, str]
    components: dict[str, str] = Field(description="Component id → its status while this is on")
    shortlink: str
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    cancelled_at: datetime | None = None
    resolved_at: datetime | None = None
    impact: str | None = None
    updates: int = Field(description="How many timeline entries it has")
