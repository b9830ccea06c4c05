"""Policy documents: one library's (or consortium's) circulation rules as data.

A ``Policy`` holds library-wide settings (currency, timezone, notice schedule, billing ban,
fees, online payment) and *circulation rules* that vary by branch × patron category × material
type. Circulation rules are resolved field by field, most specific scope first, as in Koha's
circulation and fines rules: every field may be set in ``defaults`` and overridden by any scope.

Specificity order (lowest → highest; a higher one wins for each field it sets):

    0  defaults                      (all branches, all categories, all material types)
    1  material type
    2  patron category
    3  patron category × material type
    4  branch
    5  branch × material type
    6  branch × patron category
    7  branch × patron category × material type

i.e. a branch-specific rule beats any library-wide rule, and within the same branch level a
patron-category rule beats a material-type rule. This is Koha's documented precedence (branch,
then category, then item type); the score is branch=4 + category=2 + material type=1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.circulation.money import MINOR_UNIT_DIGITS, Money

LOAN_DAYS_RANGE = (1, 28)  # "lainaaika on aineistosta riippuen 1–28 vuorokautta" [001]
FINE_MODELS = ("none", "per_day", "per_started_week", "flat_first_day")
NOTICE_CHANNELS = ("email", "sms", "letter", "registered_letter")
NOTICE_TRIGGERS = ("invoice", "collection")
NOTICE_RECIPIENTS = ("patron", "responsible_person")
BAN_COMPARISONS = ("exceeds", "reaches")
ADVANCE_NOTICE_CODE = "advance_notice"  # the code planned notices use for the advance notice
# What a patron can owe. Online payment and the replacement-fee block refer to these [003].
FEE_KINDS = frozenset(
    "overdue_fine notice_fee invoice_fee uncollected_hold interlibrary_loan"
    " replacement_card lost_item_replacement damaged_item item_processing other".split()
)
# Allowed values of the whole-number and yes/no circulation rule fields.
INT_RULE_RANGES = {
    "loan_days": LOAN_DAYS_RANGE,
    "max_renewals": (0, 99),
    "max_loans_total": (1, 10_000),
    "grace_days": (0, 28),
    "hold_pickup_days": (1, 60),
}
BOOL_RULES = ("holdable", "transportable", "childrens_material_fine_exempt")


class PolicyError(ValueError):
    """A policy document is inconsistent; the message names the offending value."""


def _int_in(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise PolicyError(f"{name}: {value!r} is not a whole number in {low}–{high}")


def _bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise PolicyError(f"{name}: {value!r} is not true/false")


@dataclass(frozen=True, slots=True)
class FineModel:
    """How an overdue loan is fined.

    none: no overdue fine (notice fees may still apply).
    per_day: ``amount`` for every calendar day after the due date, at most ``cap`` per item [001].
    per_started_week: ``amount`` for every started week late, optionally capped [004].
    flat_first_day: ``amount`` once, from the first overdue day (interlibrary loans) [004].
    """

    model: str
    amount: Money | None = None
    cap: Money | None = None

    def __post_init__(self) -> None:
        if self.model not in FINE_MODELS:
            raise PolicyError(f"fine model {self.model!r} is not one of {FINE_MODELS}")
        if self.model == "none":
            if self.amount is not None or self.cap is not None:
                raise PolicyError("fine model 'none' takes no amount or cap")
            return
        if self.amount is None or not self.amount.is_positive:
            raise PolicyError(f"fine model {self.model!r} needs a positive amount")
        if self.model == "flat_first_day" and self.cap is not None:
            raise PolicyError("fine model 'flat_first_day' takes no cap")
        if self.cap is not None and self.cap < self.amount:
            raise PolicyError(f"fine cap {self.cap} is below the fine amount {self.amount}")

    def money(self) -> tuple[Money, ...]:
        return tuple(value for value in (self.amount, self.cap) if value is not None)


@dataclass(frozen=True, slots=True)
class RuleScope:
    """Where a circulation rule applies; None means "any"."""

    branch: str | None = None
    category: str | None = None
    material_type: str | None = None

    @property
    def specificity(self) -> int:
        return (4 if self.branch else 0) + (2 if self.category else 0) + (1 if self.material_type else 0)

    def matches(self, branch: str | None, category: str | None, material_type: str | None) -> bool:
        return (
            self.branch in (None, branch)
            and self.category in (None, category)
            and self.material_type in (None, material_type)
        )


@dataclass(frozen=True)
class RuleSet:
    """Circulation rule fields set at one scope; None = not set here, ask a less specific scope."""

    loan_days: int | None = None
    max_renewals: int | None = None
    max_loans_total: int | None = None
    holdable: bool | None = None
    transportable: bool | None = None
    fine: FineModel | None = None
    grace_days: int | None = None
    childrens_material_fine_exempt: bool | None = None
    hold_pickup_days: int | None = None

    def __post_init__(self) -> None:
        for name, (low, high) in INT_RULE_RANGES.items():
            if getattr(self, name) is not None:
                _int_in(name, getattr(self, name), low, high)
        for name in BOOL_RULES:
            if getattr(self, name) is not None:
                _bool(name, getattr(self, name))
        if self.fine is not None and not isinstance(self.fine, FineModel):
            raise PolicyError(f"fine: {self.fine!r} is not a FineModel")

    def set_fields(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


RULE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RuleSet))
# Fields most libraries never need to state: no grace period, everything holdable and transportable.
BUILT_IN_DEFAULTS = RuleSet(
    holdable=True, transportable=True, grace_days=0, childrens_material_fine_exempt=False
)


@dataclass(frozen=True)
class CirculationRules:
    """Every rule field resolved for one branch × category × material type, with its source."""

    loan_days: int
    max_renewals: int
    max_loans_total: int
    holdable: bool
    transportable: bool
    fine: FineModel
    grace_days: int
    childrens_material_fine_exempt: bool
    hold_pickup_days: int
    # field name → the scope whose value won, to explain a rule ("why 14 days?")
    sources: Mapping[str, RuleScope] = field(hash=False)


@dataclass(frozen=True, slots=True)
class ScopedRuleSet:
    scope: RuleScope
    rules: RuleSet


@dataclass(frozen=True, slots=True)
class LimitGroup:
    """At most ``max_loans`` loans at once of these material types (e.g. 20 DVD/Blu-ray) [001]."""

    name: str
    material_types: frozenset[str]
    max_loans: int


@dataclass(frozen=True, slots=True)
class NoticeStep:
    """One step of the overdue notice schedule.

    ``days`` is relative to the due date: 7 = a week overdue, 0 = the due date itself, negative =
    before it. ``channels`` is a preference list: the first channel the recipient can receive is
    used (["email", "letter"] = email, or a letter when there is no email [000]); when none fits,
    the step is not sent and not charged.
    """

    code: str
    days: int
    channels: tuple[str, ...]
    fee: Money
    applies_to_childrens_loans: bool = True
    triggers: str | None = None  # "invoice" | "collection": the service opens one after sending
    honours_opt_out: bool = True
    recipient: str = "patron"  # or "responsible_person": the guardian of a child patron
    # True: sent for children's material but its fee is not charged ("only the notice letter fee" [001])
    childrens_material_fee_exempt: bool = False

    def __post_init__(self) -> None:
        if not self.code or self.code == ADVANCE_NOTICE_CODE:
            raise PolicyError(f"notice code {self.code!r} is empty or reserved")
        _int_in(f"notices.{self.code}.days", self.days, -28, 365)
        if not self.channels or set(self.channels) - set(NOTICE_CHANNELS):
            raise PolicyError(f"notices.{self.code}.channels must be from {NOTICE_CHANNELS}")
        if self.fee.minor < 0:
            raise PolicyError(f"notices.{self.code}.fee is negative")
        if self.triggers not in (None, *NOTICE_TRIGGERS):
            raise PolicyError(f"notices.{self.code}.triggers must be one of {NOTICE_TRIGGERS}")
        if self.recipient not in NOTICE_RECIPIENTS:
            raise PolicyError(f"notices.{self.code}.recipient must be one of {NOTICE_RECIPIENTS}")


@dataclass(frozen=True, slots=True)
class AdvanceNoticeRule:
    """A due-date reminder ``days`` before the due date (free).

    opt_in: only patrons who asked get it, choosing min_days–max_days (Lumme: 1–7 [001]);
    otherwise everybody with a channel gets it ``default_days`` before unless opted out [004].
    """

    opt_in: bool
    min_days: int
    max_days: int
    default_days: int
    channels: tuple[str, ...]

    def __post_init__(self) -> None:
        _int_in("advance_notice.min_days", self.min_days, 1, 28)
        _int_in("advance_notice.max_days", self.max_days, self.min_days, 28)
        _int_in("advance_notice.default_days", self.default_days, self.min_days, self.max_days)
        if not self.channels or set(self.channels) - set(NOTICE_CHANNELS):
            raise PolicyError(f"advance_notice.channels must be from {NOTICE_CHANNELS}")


@dataclass(frozen=True, slots=True)
class BillingBanRule:
    """Borrowing, renewing and holds stop when unpaid fees pass ``threshold`` [001,003].

    comparison "exceeds": banned when balance > threshold ("over 10 EUR": 10.00 may still
    borrow, 10.01 may not [003]); "reaches": banned when balance >= threshold.
    """

    threshold: Money
    comparison: str = "exceeds"

    def __post_init__(self) -> None:
        if self.comparison not in BAN_COMPARISONS:
            raise PolicyError(f"billing_ban.comparison must be one of {BAN_COMPARISONS}")
        if not self.threshold.is_positive:
            raise PolicyError("billing_ban.threshold must be positive")

    def bans(self, balance: Money) -> bool:
        if self.comparison == "exceeds":
            return balance > self.threshold
        return balance >= self.threshold


@dataclass(frozen=True, slots=True)
class OnlinePaymentRule:
    """What may be paid online [003]: the whole payable balance at once, at least ``minimum``,
    only ``payable_fee_kinds``, and nothing while a ``blocking_fee_kinds`` fee is outstanding."""

    minimum: Money
    whole_balance_only: bool
    payable_fee_kinds: frozenset[str]
    blocking_fee_kinds: frozenset[str]

    def __post_init__(self) -> None:
        unknown = (self.payable_fee_kinds | self.blocking_fee_kinds) - FEE_KINDS
        if unknown:
            raise PolicyError(f"online_payment: unknown fee kinds {sorted(unknown)}")


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fixed fees; None = the library does not charge it (or the document does not say)."""

    uncollected_hold: Money | None = None
    replacement_card: Money | None = None
    interlibrary_loan: Money | None = None
    # Charged with the replacement price of a lost or damaged item (cataloguing, covers, labels).
    item_processing: Money | None = None

    def money(self) -> tuple[Money, ...]:
        values = (self.uncollected_hold, self.replacement_card, self.interlibrary_loan, self.item_processing)
        return tuple(value for value in values if value is not None)


@dataclass(frozen=True)
class Policy:
    """A library's complete rules. Construct through ``presets.load_preset`` or directly."""

    code: str
    name: str
    currency: str
    timezone: str
    branches: frozenset[str]
    categories: frozenset[str]
    child_categories: frozenset[str]  # under-15s: a responsible adult answers for them [001]
    material_types: frozenset[str]
    defaults: RuleSet
    rules: tuple[ScopedRuleSet, ...]
    limit_groups: tuple[LimitGroup, ...]
    notices: tuple[NoticeStep, ...]
    advance_notice: AdvanceNoticeRule | None
    billing_ban: BillingBanRule
    fees: FeeSchedule
    online_payment: OnlinePaymentRule | None
    membership_revalidation_years: int | None  # Lumme: every 10 years [001]
    responsible_person_min_age: int = 18
    # A lost item that turns up again: cancel the unpaid part of its replacement fee (True), or
    # keep charging it (False). Fines accrued until the loss was declared stay either way [001].
    lost_item_refund_on_return: bool = True
    # The language the library's patrons read by default (pages, emails, notices): "fi", "cs" …
    language: str = "fi"
    # The patron changes her own postal address in My account (True), or only at the desk (False).
    patron_changes_address: bool = False

    def __post_init__(self) -> None:
        if self.currency not in MINOR_UNIT_DIGITS:
            raise PolicyError(f"currency {self.currency!r} is not supported")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyError(f"timezone {self.timezone!r} is not an IANA timezone") from None
        merged = replace(BUILT_IN_DEFAULTS, **self.defaults.set_fields())
        missing = [name for name in RULE_FIELDS if getattr(merged, name) is None]
        if missing:
            raise PolicyError(f"defaults must set {missing}")
        object.__setattr__(self, "defaults", merged)
        if not self.child_categories <= self.categories:
            raise PolicyError("child_categories must be among categories")
        _int_in("membership.responsible_person_min_age", self.responsible_person_min_age, 15, 30)
        _bool("lost_items.refund_on_return", self.lost_item_refund_on_return)
        _bool("account.patron_changes_address", self.patron_changes_address)
        if self.membership_revalidation_years is not None:
            _int_in("membership.revalidation_years", self.membership_revalidation_years, 1, 100)
        self._check_rules()
        self._check_limit_groups()
        self._check_notices()
        self._check_currency()

    def _check_rules(self) -> None:
        seen: set[RuleScope] = set()
        for scoped in self.rules:
            scope = scoped.scope
            if scope.specificity == 0:
                raise PolicyError("a scoped rule needs a branch, category or material_type")
            if scope in seen:
                raise PolicyError(f"two rules for the same scope {scope}")
            seen.add(scope)
            self._check_known(scope.branch, scope.category, scope.material_type)

    def _check_known(self, branch: str | None, category: str | None, material: str | None) -> None:
        for kind, value, known in (
            ("branch", branch, self.branches),
            ("category", category, self.categories),
            ("material_type", material, self.material_types),
        ):
            if value is not None and value not in known:
                raise PolicyError(f"unknown {kind} {value!r} in policy {self.code}")

    def _check_limit_groups(self) -> None:
        grouped: set[str] = set()
        for group in self.limit_groups:
            _int_in(f"limit_groups.{group.name}.max_loans", group.max_loans, 0, 10_000)
            unknown = group.material_types - self.material_types
            if unknown or not group.material_types:
                raise PolicyError(f"limit group {group.name}: bad material types {sorted(unknown)}")
            if group.material_types & grouped:
                raise PolicyError(f"limit group {group.name} shares material types with another")
            grouped |= group.material_types

    def _check_notices(self) -> None:
        codes = [step.code for step in self.notices]
        if len(set(codes)) != len(codes):
            raise PolicyError(f"duplicate notice codes in {codes}")
        days = [step.days for step in self.notices]
        if days != sorted(days):
            raise PolicyError("notice steps must be listed in the order of their days")

    def _check_currency(self) -> None:
        amounts: list[Money] = [self.billing_ban.threshold, *self.fees.money()]
        amounts += [step.fee for step in self.notices]
        if self.online_payment is not None:
            amounts.append(self.online_payment.minimum)
        for rule_set in (self.defaults, *(scoped.rules for scoped in self.rules)):
            if rule_set.fine is not None:
                amounts += rule_set.fine.money()
        wrong = sorted({str(amount) for amount in amounts if amount.currency != self.currency})
        if wrong:
            raise PolicyError(f"amounts {wrong} are not in the policy currency {self.currency}")

    # -- lookups --------------------------------------------------------------------------------

    def rules_for(
        self, branch: str | None, category: str | None, material_type: str | None
    ) -> CirculationRules:
        """The circulation rules for one loan situation; None = not known (only "any" rules match).

        Unknown categories and material types are errors (a typo would silently get the defaults).
        Any branch code is accepted: branches live in the database, and one without rules of its
        own simply gets the library-wide rules.
        """
        self._check_known(None, category, material_type)
        values = self.defaults.set_fields()
        sources = dict.fromkeys(values, RuleScope())
        matching = [s for s in self.rules if s.scope.matches(branch, category, material_type)]
        for scoped in sorted(matching, key=lambda s: s.scope.specificity):
            for name, value in scoped.rules.set_fields().items():
                values[name] = value
                sources[name] = scoped.scope
        return CirculationRules(**values, sources=MappingProxyType(sources))  # type: ignore[arg-type]

    def limit_group_of(self, material_type: str) -> LimitGroup | None:
        return next((g for g in self.limit_groups if material_type in g.material_types), None)

    def is_child_category(self, category: str) -> bool:
        return category in self.child_categories

    def money(self, amount: str) -> Money:
        """Money in this policy's currency, e.g. ``policy.money("3.00")``."""
        return Money.parse(amount, self.currency)


def scoped(
    rules: RuleSet,
    *,
    branch: str | None = None,
    category: str | None = None,
    material_type: str | None = None,
) -> ScopedRuleSet:
    """Shorthand for building policies in code and tests."""
    return ScopedRuleSet(RuleScope(branch, category, material_type), rules)
