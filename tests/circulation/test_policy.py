"""Policy documents: validation and most-specific-first rule resolution."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.circulation.money import Money
from app.circulation.policy import (
    AdvanceNoticeRule,
    BillingBanRule,
    FeeSchedule,
    FineModel,
    LimitGroup,
    NoticeStep,
    Policy,
    PolicyError,
    RuleScope,
    RuleSet,
    scoped,
)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def make_policy(**changes: object) -> Policy:
    base = Policy(
        code="test",
        name="Test library",
        currency="EUR",
        timezone="Europe/Helsinki",
        branches=frozenset({"main", "village"}),
        categories=frozenset({"adult", "child"}),
        child_categories=frozenset({"child"}),
        material_types=frozenset({"book", "dvd", "bluray"}),
        defaults=RuleSet(
            loan_days=28,
            max_renewals=8,
            max_loans_total=100,
            hold_pickup_days=7,
            fine=FineModel("per_day", eur("0.20"), eur("6.00")),
        ),
        rules=(),
        limit_groups=(LimitGroup("dvd_bluray", frozenset({"dvd", "bluray"}), 20),),
        notices=(NoticeStep("reminder_1", 7, ("email", "letter"), eur("1.50")),),
        advance_notice=AdvanceNoticeRule(True, 1, 7, 3, ("email",)),
        billing_ban=BillingBanRule(eur("10.00")),
        fees=FeeSchedule(uncollected_hold=eur("1.00")),
        online_payment=None,
        membership_revalidation_years=10,
    )
    return replace(base, **changes)


# One rule per specificity level, each setting loan_days to its own level number (+1 so that
# every value is a valid 1–28 loan period): the winner's value tells which level won.
EVERY_LEVEL = (
    scoped(RuleSet(loan_days=2), material_type="dvd"),
    scoped(RuleSet(loan_days=3), category="child"),
    scoped(RuleSet(loan_days=4), category="child", material_type="dvd"),
    scoped(RuleSet(loan_days=5), branch="village"),
    scoped(RuleSet(loan_days=6), branch="village", material_type="dvd"),
    scoped(RuleSet(loan_days=7), branch="village", category="child"),
    scoped(RuleSet(loan_days=8), branch="village", category="child", material_type="dvd"),
)


@pytest.mark.parametrize(
    ("branch", "category", "material", "expected"),
    [
        ("main", "adult", "book", 28),  # defaults
        ("main", "adult", "dvd", 2),  # material type
        ("main", "child", "book", 3),  # category
        ("main", "child", "dvd", 4),  # category × material
        ("village", "adult", "book", 5),  # branch beats every library-wide rule
        ("village", "adult", "dvd", 6),  # branch × material
        ("village", "child", "book", 7),  # branch × category
        ("village", "child", "dvd", 8),  # branch × category × material
    ],
)
def test_most_specific_rule_wins(branch: str, category: str, material: str, expected: int) -> None:
    policy = make_policy(rules=EVERY_LEVEL)
    assert policy.rules_for(branch, category, material).loan_days == expected


def test_category_beats_material_type_at_the_same_branch_level() -> None:
    policy = make_policy(rules=EVERY_LEVEL[:2])  # material=dvd → 2, category=child → 3
    assert policy.rules_for("main", "child", "dvd").loan_days == 3
    assert RuleScope(category="child").specificity > RuleScope(material_type="dvd").specificity


def test_resolution_is_per_field_and_records_the_source() -> None:
    policy = make_policy(
        rules=(
            scoped(RuleSet(loan_days=14), material_type="dvd"),
            scoped(RuleSet(max_renewals=2), category="child"),
        )
    )
    rules = policy.rules_for("main", "child", "dvd")
    assert (rules.loan_days, rules.max_renewals, rules.max_loans_total) == (14, 2, 100)
    assert rules.sources["loan_days"] == RuleScope(material_type="dvd")
    assert rules.sources["max_renewals"] == RuleScope(category="child")
    assert rules.sources["max_loans_total"] == RuleScope()
    assert rules.grace_days == 0 and rules.holdable and rules.transportable  # built-in defaults


def test_unknown_names_in_lookups() -> None:
    policy = make_policy()
    with pytest.raises(PolicyError, match="material_type"):
        policy.rules_for("main", "adult", "vinyl")
    with pytest.raises(PolicyError, match="category"):
        policy.rules_for("main", "teacher", "book")
    # Branches live in the database: one without its own rules gets the library-wide rules.
    assert policy.rules_for("new_branch", "adult", "book").loan_days == 28
    assert policy.rules_for(None, None, None).loan_days == 28


def test_limit_group_lookup() -> None:
    policy = make_policy()
    assert policy.limit_group_of("bluray").name == "dvd_bluray"  # type: ignore[union-attr]
    assert policy.limit_group_of("book") is None


@pytest.mark.parametrize("days", [0, 29, -1])
def test_loan_days_outside_1_to_28_are_refused(days: int) -> None:
    with pytest.raises(PolicyError, match="loan_days"):
        RuleSet(loan_days=days)


@pytest.mark.parametrize(
    "build",
    [
        lambda: FineModel("hourly", eur("1.00")),
        lambda: FineModel("none", eur("1.00")),
        lambda: FineModel("per_day"),
        lambda: FineModel("per_day", eur("0.00")),
        lambda: FineModel("per_day", eur("0.50"), eur("0.20")),
        lambda: FineModel("flat_first_day", eur("80.00"), eur("100.00")),
        lambda: RuleSet(holdable="yes"),  # type: ignore[arg-type]
        lambda: RuleSet(max_renewals=True),  # type: ignore[arg-type]
        lambda: NoticeStep("x", 7, ("pigeon",), eur("0.00")),
        lambda: NoticeStep("x", 7, ("email",), eur("0.00"), triggers="lawsuit"),
        lambda: NoticeStep("advance_notice", -3, ("email",), eur("0.00")),
        lambda: NoticeStep("x", 7, ("email",), eur("-1.00")),
        lambda: AdvanceNoticeRule(True, 1, 7, 9, ("email",)),
        lambda: BillingBanRule(eur("10.00"), "equals"),
    ],
)
def test_invalid_building_blocks_are_refused(build: object) -> None:
    with pytest.raises(PolicyError):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    "changes",
    [
        {"defaults": RuleSet(loan_days=28)},  # incomplete defaults
        {"currency": "USD"},
        {"timezone": "Mars/Olympus_Mons"},
        {"child_categories": frozenset({"toddler"})},
        {"rules": (scoped(RuleSet(loan_days=7)),)},  # no scope at all
        {"rules": (scoped(RuleSet(loan_days=7), material_type="dvd"),) * 2},
        {"rules": (scoped(RuleSet(loan_days=7), material_type="vinyl"),)},
        {"rules": (scoped(RuleSet(loan_days=7), branch="atlantis"),)},
        {
            "limit_groups": (
                LimitGroup("a", frozenset({"dvd"}), 20),
                LimitGroup("b", frozenset({"dvd"}), 5),
            )
        },
        {"limit_groups": (LimitGroup("a", frozenset({"vinyl"}), 20),)},
        {
            "notices": (
                NoticeStep("late", 35, ("email",), eur("3.00")),
                NoticeStep("early", 7, ("email",), eur("1.50")),
            )
        },
        {
            "notices": (
                NoticeStep("same", 7, ("email",), eur("1.50")),
                NoticeStep("same", 35, ("email",), eur("3.00")),
            )
        },
        {"billing_ban": BillingBanRule(Money.parse("10.00", "CZK"))},
        {"fees": FeeSchedule(replacement_card=Money.parse("50.00", "CZK"))},
        {"membership_revalidation_years": 0},
    ],
)
def test_inconsistent_policies_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        make_policy(**changes)


def test_billing_ban_exceeds_versus_reaches() -> None:
    exceeds = BillingBanRule(eur("10.00"), "exceeds")
    reaches = BillingBanRule(eur("10.00"), "reaches")
    assert not exceeds.bans(eur("10.00")) and exceeds.bans(eur("10.01"))
    assert reaches.bans(eur("10.00")) and not reaches.bans(eur("9.99"))


def test_policy_money_helper_uses_the_policy_currency() -> None:
    assert make_policy().money("3.00") == eur("3.00")
