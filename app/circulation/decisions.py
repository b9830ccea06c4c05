"""Circulation decisions: may this patron borrow, renew, place a hold, pay online, vouch?

Refusals are values, not exceptions: ``Decision(allowed=False, reason="reserved")``. Reason
codes are stable identifiers that templates and API errors translate; ``details`` carries what
the message needs (limits, amounts). Each function checks in a fixed, documented order and
returns the first refusal, so the patron hears the most fundamental problem first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from app.circulation.money import Money
from app.circulation.policy import CirculationRules, Policy


@dataclass(frozen=True, init=False)
class Decision:
    allowed: bool
    reason: str | None
    details: Mapping[str, object] = field(hash=False)

    def __init__(self, allowed: bool, reason: str | None = None, **details: object) -> None:
        if allowed and reason is not None:
            raise ValueError("an allowed decision has no refusal reason")
        if not allowed and not reason:
            raise ValueError("a refusal needs a reason code")
        object.__setattr__(self, "allowed", allowed)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "details", MappingProxyType(dict(details)))

    @classmethod
    def allow(cls, **details: object) -> Decision:
        return cls(True, None, **details)

    @classmethod
    def refuse(cls, reason: str, **details: object) -> Decision:
        return cls(False, reason, **details)

    def __repr__(self) -> str:
        extra = "".join(f", {key}={value!r}" for key, value in self.details.items())
        return f"Decision(allowed={self.allowed}, reason={self.reason!r}{extra})"


@dataclass(frozen=True, slots=True)
class PatronFacts:
    """What decisions need to know about a patron (or a responsible person).

    ``balance`` is the unpaid *registered* fees; accruing fines of loans still out do not count
    until they register at return or renewal [003]. ``premises_ban_until`` is the last day of a
    premises ban, inclusive [001]. ``in_collection``: debts sent to collection, which bans
    borrowing whatever the balance [001].
    """

    category: str
    balance: Money
    birth_date: date | None = None  # None for institutions: their responsible adult answers
    card_expires_on: date | None = None  # the card is valid through this date
    membership_checked_on: date | None = None  # registration or last revalidation [001]
    premises_ban_until: date | None = None
    in_collection: bool = False
    card_blocked: bool = False  # blocked by the library (misuse, a card reported stolen) until lifted
    account_closed: bool = False  # closed at the patron's request; reopened at the desk


@dataclass(frozen=True, slots=True)
class ItemFacts:
    material_type: str
    is_available: bool = True  # on the shelf, or waiting on the hold shelf for this patron
    age_rating: int | None = None  # film and game age limit, e.g. 16 for K16 [001]
    is_childrens_material: bool = False


@dataclass(frozen=True, slots=True)
class OutstandingFee:
    kind: str  # one of policy.FEE_KINDS
    amount: Money


def age_on(birth_date: date, today: date) -> int:
    """Completed years on ``today``."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (1 if before_birthday else 0)


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def is_under_billing_ban(patron: PatronFacts, policy: Policy) -> bool:
    """Barred from borrowing, renewing and holds because of unpaid fees or collection [001,003]."""
    return patron.in_collection or policy.billing_ban.bans(patron.balance)


def billing_ban_decision(balance: Money, policy: Policy, *, in_collection: bool = False) -> Decision:
    """Whether a balance still lets the patron borrow; "exceeds" vs "reaches" is the policy's."""
    rule = policy.billing_ban
    if in_collection or rule.bans(balance):
        return Decision.refuse(
            "billing_ban",
            balance=balance,
            threshold=rule.threshold,
            comparison=rule.comparison,
            in_collection=in_collection,
        )
    return Decision.allow(balance=balance, threshold=rule.threshold)


def _patron_blocks(patron: PatronFacts, policy: Policy, today: date) -> Decision | None:
    """Patron-level refusals shared by checkout, in this order."""
    if patron.account_closed:
        return Decision.refuse("account_closed")
    if patron.card_blocked:
        return Decision.refuse("card_blocked")
    if patron.premises_ban_until is not None and today <= patron.premises_ban_until:
        return Decision.refuse("premises_ban", until=patron.premises_ban_until)
    if patron.card_expires_on is not None and today > patron.card_expires_on:
        return Decision.refuse("card_expired", expired_on=patron.card_expires_on)
    years = policy.membership_revalidation_years
    if years is not None and patron.membership_checked_on is not None:
        due_on = add_years(patron.membership_checked_on, years)
        if today >= due_on:
            return Decision.refuse("membership_revalidation_due", due_on=due_on)
    if is_under_billing_ban(patron, policy):
        return billing_ban_decision(patron.balance, policy, in_collection=patron.in_collection)
    return None


def can_checkout(
    *,
    patron: PatronFacts,
    item: ItemFacts,
    loans_by_material: Mapping[str, int],
    policy: Policy,
    branch: str | None,
    today: date,
) -> Decision:
    """May ``patron`` borrow ``item`` at ``branch`` now?

    Order: account_closed, card_blocked, premises_ban, card_expired, membership_revalidation_due, billing_ban,
    item_not_available, age_rating, limit_total, limit_group. ``loans_by_material`` counts
    the patron's current loans (not this one) per material type. Limits: 100 at once, of which
    20 DVD/Blu-ray, 5 children's and 5 adult console games at Lumme [001]. Age ratings [001]
    are checked when the birth date is known (institution cards have none).
    """
    blocked = _patron_blocks(patron, policy, today)
    if blocked is not None:
        return blocked
    if not item.is_available:
        return Decision.refuse("item_not_available")
    if item.age_rating is not None and patron.birth_date is not None:
        age = age_on(patron.birth_date, today)
        if age < item.age_rating:
            return Decision.refuse("age_rating", age_rating=item.age_rating, age=age)
    rules = policy.rules_for(branch, patron.category, item.material_type)
    total = sum(loans_by_material.values())
    if total + 1 > rules.max_loans_total:
        return Decision.refuse("limit_total", limit=rules.max_loans_total, current=total)
    group = policy.limit_group_of(item.material_type)
    if group is not None:
        in_group = sum(loans_by_material.get(kind, 0) for kind in group.material_types)
        if in_group + 1 > group.max_loans:
            return Decision.refuse("limit_group", group=group.name, limit=group.max_loans, current=in_group)
    return Decision.allow(loan_days=rules.loan_days)


def can_renew(
    *, renewals_done: int, has_holds: bool, patron_barred: bool, rules: CirculationRules
) -> Decision:
    """Renew one loan? Per item, refused as "borrowing_suspended", "reserved" or "max_renewals"
    [001,003]. A refusal does not stop fines accruing [001]."""
    if patron_barred:
        return Decision.refuse("borrowing_suspended")
    if has_holds:
        return Decision.refuse("reserved")
    if renewals_done >= rules.max_renewals:
        return Decision.refuse("max_renewals", max_renewals=rules.max_renewals)
    return Decision.allow(renewals_left=rules.max_renewals - renewals_done - 1)


def can_place_hold(*, patron: PatronFacts, rules: CirculationRules, policy: Policy, today: date) -> Decision:
    """Place a hold? Order: billing_ban [003], card_expired, not_holdable (express loans,
    some objects [001])."""
    if is_under_billing_ban(patron, policy):
        return billing_ban_decision(patron.balance, policy, in_collection=patron.in_collection)
    if patron.card_expires_on is not None and today > patron.card_expires_on:
        return Decision.refuse("card_expired", expired_on=patron.card_expires_on)
    if not rules.holdable:
        return Decision.refuse("not_holdable")
    return Decision.allow(pickup_days=rules.hold_pickup_days)


def online_payment_decision(
    *, outstanding: Iterable[OutstandingFee], amount: Money | None, policy: Policy
) -> Decision:
    """May the patron pay ``amount`` online now (None = "pay everything payable")? [003]

    Order: online_payment_unavailable, replacement_fee_outstanding, nothing_to_pay,
    partial_not_allowed, below_minimum. Only borrowing-related fee kinds are payable; the
    whole payable balance must be paid at once, and it must be at least the minimum (3.00 EUR at
    Tampere: 2.99 is refused, 3.00 allowed).
    """
    rule = policy.online_payment
    if rule is None:
        return Decision.refuse("online_payment_unavailable")
    fees = [fee for fee in outstanding if fee.amount.is_positive]
    blocking = [fee.kind for fee in fees if fee.kind in rule.blocking_fee_kinds]
    if blocking:
        return Decision.refuse("replacement_fee_outstanding", fee_kinds=tuple(sorted(set(blocking))))
    payable = Money.total((fee.amount for fee in fees if fee.kind in rule.payable_fee_kinds), policy.currency)
    if payable.is_zero:
        return Decision.refuse("nothing_to_pay")
    to_pay = payable if amount is None else amount
    if rule.whole_balance_only and to_pay != payable:
        return Decision.refuse("partial_not_allowed", payable=payable, requested=to_pay)
    if to_pay > payable:
        return Decision.refuse("more_than_owed", payable=payable, requested=to_pay)
    if to_pay < rule.minimum:
        return Decision.refuse("below_minimum", minimum=rule.minimum, amount=to_pay)
    return Decision.allow(amount=to_pay)


def can_be_responsible_person(*, person: PatronFacts, policy: Policy, today: date) -> Decision:
    """May this person be the responsible adult for a child or an institution? [001]

    Refused ("billing_ban") for anyone barred for billing or collection, and ("not_adult") for
    anyone under the policy's age of majority or whose age is not known.
    """
    if is_under_billing_ban(person, policy):
        return billing_ban_decision(person.balance, policy, in_collection=person.in_collection)
    minimum_age = policy.responsible_person_min_age
    if person.birth_date is None or age_on(person.birth_date, today) < minimum_age:
        return Decision.refuse("not_adult", minimum_age=minimum_age)
    return Decision.allow()
