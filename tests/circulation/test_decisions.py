"""Decisions: checkout, renewal, holds, billing ban, online payment, responsible persons."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import date

import pytest

from app.circulation.decisions import (
    Decision,
    ItemFacts,
    OutstandingFee,
    PatronFacts,
    add_years,
    age_on,
    billing_ban_decision,
    can_be_responsible_person,
    can_checkout,
    can_place_hold,
    can_renew,
    online_payment_decision,
)
from app.circulation.money import Money
from app.circulation.policy import BillingBanRule
from app.circulation.presets import load_preset

TODAY = date(2024, 11, 4)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def patron(**changes: object) -> PatronFacts:
    base = PatronFacts(
        category="adult",
        balance=eur("0"),
        birth_date=date(1980, 5, 1),
        card_expires_on=date(2030, 1, 1),
        membership_checked_on=date(2020, 1, 1),
    )
    return replace(base, **changes)


def checkout(
    who: PatronFacts, item: ItemFacts, loans: dict[str, int] | None = None, today: date = TODAY
) -> Decision:
    return can_checkout(
        patron=who,
        item=item,
        loans_by_material=loans or {},
        policy=load_preset("lumme"),
        branch="mikkeli",
        today=today,
    )


# -- Decision -------------------------------------------------------------------------------------


def test_decision_value() -> None:
    refused = Decision(False, "reserved", queue=2)
    assert not refused.allowed and refused.reason == "reserved" and refused.details["queue"] == 2
    assert Decision.allow() == Decision(True, None)
    assert Decision.refuse("reserved", queue=2) == refused
    assert "reserved" in repr(refused)
    with pytest.raises(ValueError):
        Decision(False, None)
    with pytest.raises(ValueError):
        Decision(True, "reserved")
    with pytest.raises(FrozenInstanceError):
        refused.allowed = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        refused.details["queue"] = 3  # type: ignore[index]


# -- billing ban ----------------------------------------------------------------------------------


def test_tampere_ban_boundary_10_00_allowed_10_01_banned() -> None:
    # [003] "Fines exceeding 10 euros will result in suspension of borrowing rights".
    tampere = load_preset("tampere")
    assert billing_ban_decision(eur("10.00"), tampere).allowed
    banned = billing_ban_decision(eur("10.01"), tampere)
    assert (banned.allowed, banned.reason) == (False, "billing_ban")
    assert banned.details["threshold"] == eur("10.00")


def test_reaches_comparison_bans_at_the_threshold() -> None:
    tampere = load_preset("tampere")
    reaching = replace(tampere, billing_ban=BillingBanRule(eur("10.00"), "reaches"))
    assert billing_ban_decision(eur("10.00"), reaching).reason == "billing_ban"
    assert billing_ban_decision(eur("9.99"), reaching).allowed


def test_collection_bans_whatever_the_balance() -> None:
    assert billing_ban_decision(eur("0"), load_preset("lumme"), in_collection=True).reason == "billing_ban"


# -- checkout -------------------------------------------------------------------------------------


def test_checkout_allowed_returns_the_loan_period() -> None:
    decision = checkout(patron(), ItemFacts("dvd"))
    assert decision.allowed and decision.details["loan_days"] == 14


def test_checkout_limits_100_total_20_dvd_5_and_5_console_games() -> None:
    book = ItemFacts("book")
    assert checkout(patron(), book, {"book": 99}).allowed
    refused = checkout(patron(), book, {"book": 80, "dvd": 20})
    assert (refused.reason, refused.details["limit"]) == ("limit_total", 100)
    assert checkout(patron(), ItemFacts("bluray"), {"dvd": 10, "bluray": 9}).allowed
    refused = checkout(patron(), ItemFacts("bluray"), {"dvd": 10, "bluray": 10})
    assert (refused.reason, refused.details["group"]) == ("limit_group", "dvd_bluray")
    games = {"console_game_child": 5, "console_game_adult": 4}
    assert checkout(patron(), ItemFacts("console_game_child"), games).details["group"] == "console_game_child"
    assert checkout(patron(), ItemFacts("console_game_adult"), games).allowed


def test_institutions_have_a_higher_total_limit() -> None:
    institution = patron(category="institution", birth_date=None)
    assert checkout(institution, ItemFacts("book"), {"book": 150}).allowed


def test_age_rating_is_enforced_at_checkout() -> None:
    film = ItemFacts("dvd", age_rating=16)
    fifteen = patron(birth_date=date(2008, 11, 5))  # 16 tomorrow
    refused = checkout(fifteen, film)
    assert (refused.reason, refused.details["age"]) == ("age_rating", 15)
    assert checkout(fifteen, film, today=date(2024, 11, 5)).allowed


def test_patron_blocks_in_order() -> None:
    book = ItemFacts("book")
    everything_wrong = patron(
        premises_ban_until=date(2024, 11, 30),
        card_expires_on=date(2024, 1, 1),
        membership_checked_on=date(2014, 1, 1),
        balance=eur("25.00"),
    )
    assert checkout(everything_wrong, book).reason == "premises_ban"
    assert checkout(replace(everything_wrong, premises_ban_until=None), book).reason == "card_expired"
    next_one = replace(everything_wrong, premises_ban_until=None, card_expires_on=None)
    assert checkout(next_one, book).reason == "membership_revalidation_due"
    assert checkout(replace(next_one, membership_checked_on=None), book).reason == "billing_ban"


def test_premises_ban_ends_after_its_last_day_and_card_is_valid_on_its_expiry_date() -> None:
    book = ItemFacts("book")
    assert checkout(patron(premises_ban_until=TODAY), book).reason == "premises_ban"
    assert checkout(patron(premises_ban_until=date(2024, 11, 3)), book).allowed
    assert checkout(patron(card_expires_on=TODAY), book).allowed


def test_membership_revalidation_every_10_years() -> None:
    book = ItemFacts("book")
    checked = patron(membership_checked_on=date(2014, 11, 5))
    assert checkout(checked, book).allowed
    refused = checkout(checked, book, today=date(2024, 11, 5))
    assert (refused.reason, refused.details["due_on"]) == ("membership_revalidation_due", date(2024, 11, 5))


def test_item_not_available() -> None:
    assert checkout(patron(), ItemFacts("book", is_available=False)).reason == "item_not_available"


# -- renewals -------------------------------------------------------------------------------------


def test_ninth_renewal_is_refused() -> None:
    rules = load_preset("lumme").rules_for("mikkeli", "adult", "book")
    eighth = can_renew(renewals_done=7, has_holds=False, patron_barred=False, rules=rules)
    assert eighth.allowed and eighth.details["renewals_left"] == 0
    ninth = can_renew(renewals_done=8, has_holds=False, patron_barred=False, rules=rules)
    assert (ninth.reason, ninth.details["max_renewals"]) == ("max_renewals", 8)


def test_renewal_with_a_hold_or_a_barred_patron_is_refused() -> None:
    rules = load_preset("lumme").rules_for("mikkeli", "adult", "book")
    assert can_renew(renewals_done=0, has_holds=True, patron_barred=False, rules=rules).reason == "reserved"
    barred = can_renew(renewals_done=0, has_holds=True, patron_barred=True, rules=rules)
    assert barred.reason == "borrowing_suspended"
    express = load_preset("lumme").rules_for("mikkeli", "adult", "express_loan")
    assert (
        can_renew(renewals_done=0, has_holds=False, patron_barred=False, rules=express).reason
        == "max_renewals"
    )


# -- holds ----------------------------------------------------------------------------------------


def test_holds() -> None:
    lumme = load_preset("lumme")
    book = lumme.rules_for("mikkeli", "adult", "book")
    express = lumme.rules_for("mikkeli", "adult", "express_loan")
    allowed = can_place_hold(patron=patron(), rules=book, policy=lumme, today=TODAY)
    assert allowed.allowed and allowed.details["pickup_days"] == 7
    assert can_place_hold(patron=patron(), rules=express, policy=lumme, today=TODAY).reason == "not_holdable"
    in_debt = patron(balance=eur("10.01"))
    assert can_place_hold(patron=in_debt, rules=book, policy=lumme, today=TODAY).reason == "billing_ban"
    expired = patron(card_expires_on=date(2024, 1, 1))
    assert can_place_hold(patron=expired, rules=book, policy=lumme, today=TODAY).reason == "card_expired"


# -- online payment [003] -------------------------------------------------------------------------


def pay(fees: list[tuple[str, str]], amount: str | None = None, preset: str = "tampere") -> Decision:
    policy = load_preset(preset)
    return online_payment_decision(
        outstanding=[OutstandingFee(kind, policy.money(value)) for kind, value in fees],
        amount=None if amount is None else policy.money(amount),
        policy=policy,
    )


def test_online_payment_minimum_is_3_00() -> None:
    assert pay([("overdue_fine", "2.99")], "2.99").reason == "below_minimum"
    allowed = pay([("overdue_fine", "1.00"), ("notice_fee", "2.00")], "3.00")
    assert allowed.allowed and allowed.details["amount"] == eur("3.00")
    assert pay([("uncollected_hold", "3.00")]).allowed  # None = the whole payable balance


def test_online_payment_must_be_the_whole_balance() -> None:
    refused = pay([("overdue_fine", "5.00")], "3.00")
    assert (refused.reason, refused.details["payable"]) == ("partial_not_allowed", eur("5.00"))


def test_online_payment_refused_while_a_replacement_fee_is_outstanding() -> None:
    assert pay([("overdue_fine", "5.00"), ("lost_item_replacement", "25.00")], "5.00").reason == (
        "replacement_fee_outstanding"
    )


def test_online_payment_counts_only_borrowing_related_fees() -> None:
    # A replacement card fee is paid at the desk; only the 4.00 of fines is payable online.
    assert pay([("overdue_fine", "4.00"), ("replacement_card", "5.00")], "4.00").allowed
    assert pay([("replacement_card", "5.00")]).reason == "nothing_to_pay"
    assert pay([]).reason == "nothing_to_pay"


def test_online_payment_where_the_library_offers_none() -> None:
    assert pay([("overdue_fine", "40.00")], preset="czech").reason == "online_payment_unavailable"


# -- responsible persons [001] --------------------------------------------------------------------


def test_responsible_person_must_be_an_adult_without_a_billing_ban() -> None:
    lumme = load_preset("lumme")

    def decide(who: PatronFacts) -> Decision:
        return can_be_responsible_person(person=who, policy=lumme, today=TODAY)

    assert decide(patron()).allowed
    assert decide(patron(birth_date=date(2006, 11, 5))).reason == "not_adult"  # 18 tomorrow
    assert decide(patron(birth_date=date(2006, 11, 4))).allowed
    assert decide(patron(birth_date=None)).reason == "not_adult"
    assert decide(patron(balance=eur("10.01"))).reason == "billing_ban"
    assert decide(patron(in_collection=True)).reason == "billing_ban"


def test_dates() -> None:
    assert age_on(date(2008, 11, 5), date(2024, 11, 4)) == 15
    assert age_on(date(2008, 11, 5), date(2024, 11, 5)) == 16
    assert add_years(date(2016, 2, 29), 10) == date(2026, 2, 28)
    assert add_years(date(2014, 11, 5), 10) == date(2024, 11, 5)
