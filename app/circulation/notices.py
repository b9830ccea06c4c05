"""Notice planning: which due-date and overdue notices a loan needs today, by which channel.

Pure planning only: the service writes each planned notice to the outbox with a unique key
(loan, due date, step code), charges its fee, and opens an invoice or a collection referral when
the step says so. Rules by library:

- OUTI [000]: 7 d 1.50 EUR and 35 d 3.00 EUR, by email or by letter without email, also for
  children's loans.
- Lumme [001]: 7 d email, 14 d letter, invoice no earlier than 56 d, then municipal collection;
  an optional advance notice 1–7 days before the due date, the patron picks the days. Children's
  material pays only the notice letter fee, not the invoicing fee.
- Czech [004]: advance notice and last-day reminder (free), reminders at 5 d (email), 20 d
  (email or SMS), 45 d (email), a pre-legal registered letter (100 CZK) to the patron or a
  child's legal guardian. No other post: without email or phone a patron gets no reminders.
  Opting out is honoured.

A step the rules send by post (its channels name a letter) always reaches someone: the letter goes
to the postal address on file — the caller says whether there is one, whatever channels the patron
prefers — and when there is none it is still planned, marked ``address_missing``, so staff find the
address before posting it instead of the patron never being invoiced. Only email and SMS steps can
be unreachable (the seeds want that: [001] emails "those who have an email address", [004] a reader
without email or phone watches their own dates).

A step whose day has come is planned until it has been sent, so a job that missed days catches
up (a loan first seen 35 days overdue at OUTI gets both notices). Steps on or before the due
date (advance notice, last-day reminder) are only useful before the loan is overdue, so they are
never planned after the due date.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from app.circulation.money import Money
from app.circulation.policy import ADVANCE_NOTICE_CODE, NoticeStep, Policy

POSTAL_CHANNELS = ("letter", "registered_letter")


@dataclass(frozen=True, slots=True)
class ContactChannels:
    """What a person can receive: email, SMS (a phone with SMS consent), post (an address on file)."""

    email: bool = False
    sms: bool = False
    postal_address: bool = False

    def can_receive(self, channel: str) -> bool:
        if channel == "email":
            return self.email
        if channel == "sms":
            return self.sms
        if channel in POSTAL_CHANNELS:
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
    address_missing: bool = False  # a letter by rule, but no postal address on file: staff look it up


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


def _advance_notice_days(patron: PatronNoticeFacts, policy: Policy) -> int | None:
    """How many days before the due date this patron gets the advance notice; None = not at all."""
    rule = policy.advance_notice
    if rule is None or patron.opted_out:
        return None
    days = patron.advance_notice_days
    if days is None:
        return None if rule.opt_in else rule.default_days
    if not rule.min_days <= days <= rule.max_days:
        raise ValueError(
            f"advance notice days {days} outside {rule.min_days}–{rule.max_days} for {policy.code}"
        )
    return days


def _advance_window_open(offset: int, days: int) -> bool:
    return -days <= offset < 0


def _advance_notice(
    *, due_date: date, offset: int, patron: PatronNoticeFacts, policy: Policy
) -> PlannedNotice | None:
    rule = policy.advance_notice
    days = _advance_notice_days(patron, policy)
    if rule is None or days is None or not _advance_window_open(offset, days):
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
    A step is skipped without a fee when no channel fits the recipient (email and SMS steps only:
    a postal step is planned with ``address_missing``), when the patron opted out and the step
    honours that, or when it does not apply to children's loans and this is one (children's
    material, or a patron in a child category). A step exempt for children's material is sent
    for it without its fee.
    """
    planned, _unreachable = plan_notices_and_unreachable(
        due_date=due_date,
        today=today,
        already_sent=already_sent,
        patron=patron,
        is_childrens_material=is_childrens_material,
        policy=policy,
    )
    return planned


def plan_notices_and_unreachable(
    *,
    due_date: date,
    today: date,
    already_sent: Collection[str],
    patron: PatronNoticeFacts,
    is_childrens_material: bool,
    policy: Policy,
) -> tuple[list[PlannedNotice], list[str]]:
    """``plan_notices`` plus the codes of steps due today that no channel can reach.

    The service records those as handled ("no channel", no fee), so a patron without email or
    phone [004] is not reconsidered every night for a notice nobody can deliver. A step with a
    postal channel is never among them (see the module docstring).
    """
    offset = days_from_due(due_date, today)
    is_child = policy.is_child_category(patron.category)
    is_childrens_loan = is_childrens_material or is_child
    planned: list[PlannedNotice] = []
    unreachable: list[str] = []

    if ADVANCE_NOTICE_CODE not in already_sent:
        advance = _advance_notice(due_date=due_date, offset=offset, patron=patron, policy=policy)
        if advance is not None:
            planned.append(advance)
        elif _advance_notice_days(patron, policy) is not None and _advance_window_open(
            offset, _advance_notice_days(patron, policy)
        ):
            unreachable.append(ADVANCE_NOTICE_CODE)

    for step in policy.notices:
        if step.code in already_sent or not _step_is_due(step.days, offset):
            continue
        if is_childrens_loan and not step.applies_to_childrens_loans:
            continue
        if patron.opted_out and step.honours_opt_out:
            continue
        role, contacts = _recipient(step, patron, is_child)
        channel = contacts.first_usable(step.channels)
        address_missing = channel is None
        if channel is None:  # a letter by rule still goes out, to an address staff look up
            channel = next((c for c in step.channels if c in POSTAL_CHANNELS), None)
        if channel is None:
            unreachable.append(step.code)
            continue
        exempt = is_childrens_material and step.childrens_material_fee_exempt
        planned.append(
            PlannedNotice(
                step_code=step.code,
                channel=channel,
                recipient=role,
                fee=Money.zero(policy.currency) if exempt else step.fee,
                triggers=step.triggers,
                due_date=due_date,
                address_missing=address_missing,
            )
        )
    return planned, unreachable


def notice_fees(planned: Collection[PlannedNotice], currency: str) -> Money:
    """The total fee of planned notices, e.g. OUTI 1.50 + 3.00 = 4.50 EUR."""
    return Money.total((notice.fee for notice in planned), currency)


def next_notice_date(
    *,
    due_date: date,
    after: date,
    already_sent: Collection[str],
    patron: PatronNoticeFacts,
    is_childrens_material: bool,
    policy: Policy,
) -> date | None:
    """The first day after ``after`` on which ``plan_notices`` can plan something new; None = never.

    The service stores it on the loan, so the nightly job reads only the loans whose day has
    come instead of every loan. Channels are not considered (contacts may change before then);
    the patron's choices (opt-out, advance-notice days) and the child rules are. A step whose
    window has closed (an advance notice after the due date) is dropped; a later overdue step
    stays due until handled, which is what lets a missed night catch up.
    """
    is_childrens_loan = is_childrens_material or policy.is_child_category(patron.category)
    windows: list[tuple[date, date | None]] = []
    days = _advance_notice_days(patron, policy)
    if days is not None and ADVANCE_NOTICE_CODE not in already_sent:
        windows.append((due_date - timedelta(days=days), due_date - timedelta(days=1)))
    for step in policy.notices:
        if step.code in already_sent:
            continue
        if is_childrens_loan and not step.applies_to_childrens_loans:
            continue
        if patron.opted_out and step.honours_opt_out:
            continue
        start = due_date + timedelta(days=step.days)
        windows.append((start, due_date if step.days <= 0 else None))
    first_day = after + timedelta(days=1)
    candidates = [max(start, first_day) for start, end in windows if end is None or end >= first_day]
    return min(candidates, default=None)
