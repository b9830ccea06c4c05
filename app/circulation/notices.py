"""Notice planning: which due-date and overdue notices a loan needs today, by which channel.

Pure planning only: the service writes each planned notice to the outbox with a unique key
(loan, due date, step code), charges its fee, and opens an invoice or a collection referral when
the step says so. Rules by library:

- OUTI [000]: 7 d 1.50 EUR and 35 d 3.00 EUR, by email or by letter without email, also for
  children's loans.
- Lumme [001]: 7 d email, 14 d letter, invoice no earlier than 56 d, then municipal collection;
  an optional advance notice 1–7 days before the due date, the patron picks the days.
- Czech [004]: advance notice and last-day reminder (free), reminders at 5 d (email), 20 d
  (email or SMS), 45 d (email), a pre-legal registered letter (100 CZK) to the patron or a
  child's legal guardian. No other post: without email or phone a patron gets no reminders.
  Opting out is honoured.

A step whose day has come is planned until it has been sent, so a job that missed days catches
up (a loan first seen 35 days overdue at OUTI gets both notices). Steps on or before the due
date (advance notice, last-day reminder) are only useful before the loan is overdue, so they are
never planned after the due date.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from app.circulation.money import Money
from app.circulation.policy import ADVANCE_NOTICE_CODE, NoticeStep, Policy


@dataclass(frozen=True, slots=True)
class ContactChannels:
    """What a person can receive: email, SMS (a phone with SMS consent), post."""

    email: bool = False
    sms: bool = False
    postal_address: bool = False

    def can_receive(self, channel: str) -> bool:
        if channel == "email":
            return self.email
        if channel == "sms":
            return self.sms
        if channel in ("letter", "registered_letter"):
            return self.postal_address
        raise ValueError(f"unknown notice channel {channel!r}")

    def first_usable(self, preferences: tuple[str, ...]) -> str | None:
        return next((channel for channel in preferences if self.can_receive(channel)), None)


@dataclass(frozen=True, slots=True)
class PatronNoticeFacts:
    """The borrower as notices see them.

    ``guardian`` is the responsible person's contacts for a child patron [001,004].
    ``advance_notice_days`` is the patron's own choice of advance-notice days; None means they
    made no choice (no notice where the notice is opt-in, the default days elsewhere).
    """

    category: str
    contacts: ContactChannels
    guardian: ContactChannels | None = None
    opted_out: bool = False
    advance_notice_days: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedNotice:
    step_code: str
    channel: str
    recipient: str  # "patron" | "guardian"
    fee: Money
    triggers: str | None  # "invoice" | "collection" | None
    due_date: date  # the due date the notice is about; part of the outbox's unique key


def days_from_due(due_date: date, today: date) -> int:
    """Days relative to the due date: 7 = a week overdue, -3 = three days before it."""
    return (today - due_date).days


def _step_is_due(step_days: int, offset: int) -> bool:
    if step_days <= 0:
        return step_days <= offset <= 0
    return offset >= step_days


def _recipient(step: NoticeStep, patron: PatronNoticeFacts, is_child: bool) -> tuple[str, ContactChannels]:
    if step.recipient == "responsible_person" and is_child and patron.guardian is not None:
        return "guardian", patron.guardian
    return "patron", patron.contacts


def _advance_notice(
    *, due_date: date, offset: int, patron: PatronNoticeFacts, policy: Policy
) -> PlannedNotice | None:
    rule = policy.advance_notice
    if rule is None or patron.opted_out:
        return None
    days = patron.advance_notice_days
    if days is None:
        if rule.opt_in:
            return None
        days = rule.default_days
    elif not rule.min_days <= days <= rule.max_days:
        raise ValueError(
            f"advance notice days {days} outside {rule.min_days}–{rule.max_days} for {policy.code}"
        )
    if not -days <= offset < 0:
        return None
    channel = patron.contacts.first_usable(rule.channels)
    if channel is None:
        return None
    return PlannedNotice(
        step_code=ADVANCE_NOTICE_CODE,
        channel=channel,
        recipient="patron",
        fee=Money.zero(policy.currency),
        triggers=None,
        due_date=due_date,
    )


def plan_notices(
    *,
    due_date: date,
    today: date,
    already_sent: Collection[str],
    patron: PatronNoticeFacts,
    is_childrens_material: bool,
    policy: Policy,
) -> list[PlannedNotice]:
    """The notices a loan due on ``due_date`` (local date) needs on ``today``, in send order.

    ``already_sent`` holds the step codes sent for this due date (a renewal starts afresh).
    A step is skipped without a fee when no channel fits the recipient, when the patron opted
    out and the step honours that, or when it does not apply to children's loans and this is one
    (children's material, or a patron in a child category).
    """
    offset = days_from_due(due_date, today)
    is_child = policy.is_child_category(patron.category)
    is_childrens_loan = is_childrens_material or is_child
    planned: list[PlannedNotice] = []

    if ADVANCE_NOTICE_CODE not in already_sent:
        advance = _advance_notice(due_date=due_date, offset=offset, patron=patron, policy=policy)
        if advance is not None:
            planned.append(advance)

    for step in policy.notices:
        if step.code in already_sent or not _step_is_due(step.days, offset):
            continue
        if is_childrens_loan and not step.applies_to_childrens_loans:
            continue
        if patron.opted_out and step.honours_opt_out:
            continue
        role, contacts = _recipient(step, patron, is_child)
        channel = contacts.first_usable(step.channels)
        if channel is None:
            continue
        planned.append(
            PlannedNotice(
                step_code=step.code,
                channel=channel,
                recipient=role,
                fee=step.fee,
                triggers=step.triggers,
                due_date=due_date,
            )
        )
    return planned


def notice_fees(planned: Collection[PlannedNotice], currency: str) -> Money:
    """The total fee of planned notices, e.g. OUTI 1.50 + 3.00 = 4.50 EUR."""
    return Money.total((notice.fee for notice in planned), currency)
