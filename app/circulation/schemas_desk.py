"""JSON bodies of the desk's patron-record and payment operations (app/circulation/api_desk.py)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from app.circulation.schemas import Instant, Money
from app.platform.contract import Answer, Body, Id

Reason = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S", description="Why (recorded in the audit)")]
Channels = Literal["email", "sms", "letter"]


class RecordChange(Body):
    """The fields to change; those left out keep their value. A new ``name`` needs ``identity_check`` [001]."""

    name: Annotated[str, Field(max_length=200, pattern=r"\S")] | None = None
    identity_check: Annotated[str, Field(max_length=200, description=(
        "How the identity was checked (e.g. passport checked) — never the identity code"))] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    postal_address: Annotated[str, Field(max_length=500)] | None = None
    notice_channels: Annotated[list[Channels], Field(max_length=3)] | None = None
    receipts_by_email: bool | None = None
    category: Annotated[str, Field(max_length=40)] | None = None
    home_branch: Annotated[str, Field(max_length=40, description="Branch code of the patron's library")] | None = None


class RecordChanged(Answer):
    changed: list[str] = Field(description="Names of the fields that changed (nothing else is said)")


class LinkSent(Answer):
    sent: bool = Field(description="False: a link was sent in the last 10 minutes, so none was sent now")


class ReasonBody(Body):
    reason: Reason


class BlockSet(Answer):
    blocked: bool
    since: Instant | None = None


class HearingBody(Body):
    held_on: date
    heard_by: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S",
                                   description="The official who heard the patron")]
    summary: Annotated[str, Field(max_length=4000)] = ""


class HearingRecorded(Answer):
    hearing_id: int


class PremisesBanBody(Body):
    hearing_id: Id = Field(description="The recorded hearing this decision follows [001]")
    decided_on: date
    decision_maker: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
    decision_reference: Annotated[str, Field(max_length=100)] = ""
    starts_on: date
    ends_on: date = Field(description="At most 30 days after starts_on, counting both")
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]


class PremisesBanRecorded(Answer):
    ban_id: int
    starts_on: date
    ends_on: date


class RevalidationBody(Body):
    note: Annotated[str, Field(max_length=200)] = ""


class Revalidated(Answer):
    validated_at: Instant


class Closed(Answer):
    closed: Literal[True]
    holds_cancelled: int


class RefundBody(Body):
    amount: Annotated[str, Field(max_length=20, examples=["5.00"], description=(
        "Decimal text; leave out to refund all that is left of the payment"))] | None = None
    reason: Reason


class Refunded(Answer):
    payment_id: int
    refunded: Money
    refunded_in_all: Money


class ReceiptLine(Answer):
    reason: str
    amount: Money


class Receipt(Answer):
    payment_id: int
    method: str = Field(description="desk | online")
    means: str = Field(description="cash | card at the desk; empty online")
    amount: Money
    refunded: Money
    booked_at: datetime
    lines: list[ReceiptLine]


class ReceiptSent(Answer):
    sent: bool = Field(description="False: this receipt was already emailed")


class DamagedBody(Body):
    item_barcode: Annotated[str, Field(min_length=1, max_length=40, pattern=r"\S")]
    branch: Annotated[str, Field(min_length=1, max_length=81, pattern=r"\S",
                                 description="Where the copy is (code or library/branch): a copy on loan is "
                                             "checked in there")]
    amount: Annotated[str, Field(max_length=20, description="Leave out to charge the item's price")] | None = None


class ItemCharged(Answer):
    barcode: str
    replacement: Money
    processing: Money
