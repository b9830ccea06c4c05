"""JSON bodies of the patron's own ``me`` endpoints beyond the account summary: profile and what she may change,
library cards and reporting one lost, dependants, pausing a hold, the opt-in loan history."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from app.accounts.cards import CARD_STATES
from app.accounts.models import Patron
from app.circulation.models import PatronCirculation
from app.circulation.schemas import Instant, Money, Refused
from app.platform.contract import Answer, Body

CHANNELS = ("email", "sms", "letter")
# What the patron may change herself [003,001]; name and postal address only at the desk.
EDITABLE_FIELDS = ("email", "phone", "notice_channels", "advance_notice_days", "receipts_by_email", "hold_nickname")
CARD_REASONS = ("card_not_active",)
PAUSE_REASONS = ("hold_not_waiting", "suspension_date_invalid")
RESUME_REASONS = ("hold_not_suspended",)
STACK_REQUEST_REASONS = ("billing_ban", "already_on_loan", "already_requested", "no_stack_copy")
STACK_CANCEL_REASONS = ("stack_request_not_cancellable",)
STACK_STATES = ("requested", "processing", "ready", "cancelled", "collected")

Email = Annotated[str, Field(max_length=Patron.__table__.c.email.type.length, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
                             description="Empty to remove it")]
Phone = Annotated[str, Field(max_length=Patron.__table__.c.phone.type.length, pattern=r"^$|^\+?[0-9 ()-]{5,20}$",
                             description="Empty to remove it; e.g. +358 40 123 4567")]
Nickname = Annotated[str, Field(max_length=PatronCirculation.__table__.c.hold_nickname.type.length,
                                description="The hold-shelf nickname; empty for none")]
Channel = Literal[CHANNELS]


# -- profile ---------------------------------------------------------------------------------------


class DayRange(Answer):
    min: int
    max: int


class Profile(Answer):
    """What the library holds (read-only) and the patron's own settings; ``editable`` lists what PATCH takes."""

    name: str
    card_number: str
    email: str
    phone: str
    postal_address: str
    category: str
    library: str
    home_branch: str
    card_expires_on: date | None
    notice_channels: list[Channel]
    advance_notice_days: int | None
    advance_notice_range: DayRange | None = Field(description="The days the library allows; null: none to choose")
    receipts_by_email: bool
    hold_nickname: str | None
    language: str
    editable: list[Literal[EDITABLE_FIELDS]]


class ProfileChange(Body):
    """Only the fields given change. ``advance_notice_days`` null clears the choice."""

    email: Email | None = None
    phone: Phone | None = None
    notice_channels: Annotated[list[Channel], Field(max_length=3)] | None = None
    advance_notice_days: Annotated[int, Field(ge=0, le=365)] | None = None
    receipts_by_email: bool | None = None
    hold_nickname: Nickname | None = None


# -- cards -------------------------------------------------------------------------------------------


class Card(Answer):
    card_id: int
    number: str
    status: Literal[CARD_STATES]
    library: str
    issued_at: Instant
    lost_at: Instant | None
    valid_until: date | None
    primary: bool = Field(description="The account's main card")


class Cards(Answer):
    cards: list[Card]
    replacement_fee: Money | None = Field(description="What a new card in place of a lost one costs at the desk")


class CardRefused(Refused):
    reason: Literal[CARD_REASONS]


# -- dependants --------------------------------------------------------------------------------------


class DependantItem(Answer):
    patron_id: int
    name: str
    kind: Literal["person", "institution"]


class Dependants(Answer):
    """Those the patron answers for: her under-15 children and the institutions she is responsible for."""

    dependants: list[DependantItem]


# -- pausing a hold ----------------------------------------------------------------------------------


class PauseRequest(Body):
    until: date | None = Field(None, description="The hold waits again from this day; omit or null: until resumed")


class HoldPaused(Answer):
    hold_id: int
    state: Literal["suspended", "waiting"]
    suspended_until: date | None


class PauseRefused(Refused):
    reason: Literal[PAUSE_REASONS]


class ResumeRefused(Refused):
    reason: Literal[RESUME_REASONS]


# -- loan history ------------------------------------------------------------------------------------


class HistorySetting(Answer):
    enabled: bool = Field(description="Returned loans are kept (off unless the patron opted in)")
    entries: int
    changed_at: Instant | None


class HistoryChange(Body):
    enabled: bool


class HistoryEntry(Answer):
    kind: Literal["loan", "audiobook"]
    title: str
    record_key: str
    borrowed_at: Instant
    returned_at: Instant


class History(Answer):
    setting: HistorySetting
    entries: list[HistoryEntry] = Field(description="The newest first (at most 200)")


# -- requests from the closed stacks [003] -------------------------------------------------------------


class StackRequestBody(Body):
    """Give ``record_key`` or ``record_id`` (a catalogue record, GET /api/v1/records)."""

    record_key: str | None = Field(None, max_length=80, description="The title's record key")
    record_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = Field(
        None, description="A catalogue record: a copy of its title is fetched")


class StackRequestAnswer(Answer):
    id: int
    record_key: str
    title: str
    state: Literal[STACK_STATES]
    requested_at: Instant
    pickup_place: str = Field(description="Where it waits, once ready")
    last_pickup_day: date | None
    cancelled_at: Instant | None


class StackRequests(Answer):
    requests: list[StackRequestAnswer] = Field(description="Open ones and those cancelled in the last days, oldest first")


class StackRequestRefused(Refused):
    reason: Literal[STACK_REQUEST_REASONS]


class StackCancelRefused(Refused):
    reason: Literal[STACK_CANCEL_REASONS]
