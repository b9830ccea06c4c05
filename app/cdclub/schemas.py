"""The JSON bodies of the CD club API: clubs (public), the patron's memberships, a club's members."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from app.platform.contract import Answer, Body, Id, Query

MemberStatus = Literal["active", "paused", "left"]


class AddressIn(Body):
    """Postal address for the CDs; required for CD clubs."""

    recipient_name: Annotated[str, Field(max_length=200)] | None = None
    street_address: Annotated[str, Field(max_length=200)] | None = None
    address_extra: Annotated[str, Field(max_length=200, description="c/o, apartment, PO box")] | None = None
    postal_code: Annotated[str, Field(max_length=20)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    country: Annotated[str, Field(max_length=2, description="ISO 3166-1 alpha-2, default FI")] | None = None


class Join(Body):
    club_id: Id
    address: AddressIn | None = None


class MemberAdd(Body):
    card_number: Annotated[str, Field(max_length=40)]
    address: AddressIn | None = None


class MembershipChange(Body):
    status: Literal["active", "paused"] | None = None
    address: AddressIn | None = None


class MembersQuery(Query):
    status: MemberStatus | None = None


class Period(Answer):
    period: str = Field(description="YYYY-MM, the month of delivery")
    production_start: date = Field(description="cut-off: the members of the period are frozen")
    delivery_date: date


class Languages(Answer):
    fi: str
    sv: str
    en: str


class Club(Answer):
    id: int
    code: str
    name: str = Field(description="in the request's language (Accept-Language)")
    description: str
    names: Languages
    descriptions: Languages
    books_per_period: int
    disc_cap: int
    delivery_format: Literal["cd", "online"]
    accepts_members: bool
    upcoming_periods: list[Period]
    first_delivery_if_joining_now: Period


class Clubs(Answer):
    clubs: list[Club]


class ClubRef(Answer):
    id: int
    code: str
    name: str


class Delivery(Answer):
    period: str
    delivery_date: date


class AddressOut(Answer):
    recipient_name: str | None
    street_address: str | None
    address_extra: str | None
    postal_code: str | None
    city: str | None
    country: str | None


class Membership(Answer):
    id: int
    club: ClubRef
    status: MemberStatus
    joined_at: datetime
    first_period: str | None
    next_delivery: Delivery | None
    still_receiving: list[Delivery] = Field(description="runs frozen before pausing or leaving that still come")
    address: AddressOut
    card_number: str | None = Field(None, description="in library systems' answers only")


class Memberships(Answer):
    memberships: list[Membership]


class Members(Answer):
    members: list[Membership]
