"""The JSON bodies of the reader-app API: loans, listening positions and the position a reader app saves."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, ConfigDict, Field, WithJsonSchema

from app.platform.contract import MESSAGES, PG_INT_MAX, Answer, Body

Url = Annotated[str, WithJsonSchema({"type": "string", "format": "uri"})]
DEVICE_KEPT = 100  # the stored device name is cut to this many characters (ListeningPosition.device)
HREF_MAX = 2000


# -- answers --------------------------------------------------------------------------------------

class LoanBook(Answer):
    id: int
    identifier: str = Field(description="The book's URI: urn:isbn:… or urn:uuid:…")
    title: str
    author: str
    narrator: str
    language: str = Field(description="BCP 47; empty when unknown")
    duration: float = Field(description="Seconds, all tracks")


class LoanLinks(Answer):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    manifest: Url
    return_: Url = Field(alias="return", description="POST here to return the book early")
    renew: Url = Field(description="POST here to renew: possible in the loan's last week, when it moves the end by "
                                   "at least a day (earlier: 409 with `reason` too_soon and `renewable_from`)")
    position: Url = Field(description="GET or PUT the listening position")
    publication: Url = Field(description="The book as an OPDS 2.0 publication")


class Loan(Answer):
    """One active loan. It ends by itself at `until`: an app may keep playing downloads until then."""

    id: int
    since: datetime
    until: datetime = Field(description="The loan ends by itself then (UTC, whole seconds)")
    renewals: int = Field(ge=0)
    renewals_left: int = Field(ge=0)
    manifest_url: Url
    book: LoanBook
    links: LoanLinks


class LoanList(Answer):
    loans: list[Loan] = Field(description="Soonest `until` first")


class LocatorLocations(Answer):
    fragments: list[str] = Field(description='Media Fragments: ["t=SECONDS"] into the track')
    progression: float | None = Field(None, ge=0, le=1, description="Within the track; absent when unknown")
    totalProgression: float | None = Field(None, ge=0, le=1, description="Within the book; absent when unknown")


class PositionLocator(Answer):
    """The same position as a Readium Locator."""

    href: Url
    type: str
    locations: LocatorLocations


class Position(Answer):
    track: int
    offset: float = Field(description="Seconds into the track")
    recorded_at: datetime = Field(description="When the device recorded it; the latest one wins")
    device: str
    locator: PositionLocator


class PositionAnswer(Answer):
    position: Position | None = Field(description="null: no position saved yet")


class SavedPosition(Answer):
    position: Position = Field(description="The position that holds now")
    accepted: bool = Field(description="false: a position recorded later was already stored and was kept")


class ReadiumManifest(Answer):
    """A Readium Web Publication Manifest with the audiobook profile. Only its outline is described here: the
    document is defined by the Readium schema (https://readium.org/webpub-manifest/schema/publication.schema.json)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})
    metadata: dict[str, Any]
    links: list[dict[str, Any]]
    readingOrder: list[dict[str, Any]] = Field(description="The tracks: href, type, duration, bitrate, size")


# -- the position a reader app saves ----------------------------------------------------------------

class LocatorLocationsInput(Body):
    fragments: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=20)] | None = None


class LocatorInput(Body):
    href: Annotated[str, Field(max_length=HREF_MAX, description="The track's URL (…/tracks/NUMBER)")]
    locations: LocatorLocationsInput | None = None


class PositionUpdate(Body):
    """Either `track` and `offset`, or a Readium Locator — in `locator`, or the body itself (`href` and
    `locations`) — whose href names the track (…/tracks/NUMBER) and whose `t=SECONDS` fragment is the offset."""

    track: Annotated[int, Field(ge=1, le=PG_INT_MAX)] | None = None
    offset: Annotated[float, Field(ge=0, description="Seconds into the track")] | None = None
    recorded_at: AwareDatetime | None = Field(None, description=(
        "When the device recorded the position, with its time zone; default: when it arrives. The latest wins; "
        "a time more than 5 minutes ahead of the server is taken as 5 minutes ahead."))
    device: Annotated[str, Field(max_length=1000, description=(
        f"A name for the device; the first {DEVICE_KEPT} characters are kept."))] | None = None
    locator: LocatorInput | None = None
    href: Annotated[str, Field(max_length=HREF_MAX)] | None = None
    locations: LocatorLocationsInput | None = None

    def values(self, now: datetime) -> dict[str, Any]:
        """track, offset, recorded_at and device for ``save_position``; ValueError({field: [message]}) when
        neither the fields nor the locator give a track and an offset."""
        track, offset, errors = self.track, self.offset, {}
        locator = self.locator or (LocatorInput(href=self.href, locations=self.locations) if self.href else None)
        if track is None and locator is not None:
            tail = locator.href.split("#")[0].rstrip("/").rsplit("/", 1)[-1]
            track = int(tail) if tail.isascii() and tail.isdigit() else None
            fragments = (locator.locations.fragments if locator.locations else None) or []
            time = next((f[2:] for f in fragments if f.startswith("t=")), None)
            if time is not None:
                offset = _seconds(time)
                if offset is None:
                    errors["offset"] = [str(MESSAGES["invalid"])]
        if track is None:
            errors["track"] = [str(MESSAGES["missing"])]
        if offset is None and "offset" not in errors:
            errors["offset"] = [str(MESSAGES["missing"])]
        if errors:
            raise ValueError(errors)
        return {"track": track, "offset": offset, "recorded_at": self.recorded_at or now, "device": self.device or ""}


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
