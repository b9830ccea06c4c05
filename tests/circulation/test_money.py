"""Money: exact minor units, one currency at a time, never float."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.circulation.money import Money


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


@pytest.mark.parametrize(
    ("text", "minor"),
    [("1.50", 150), ("1.5", 150), ("0", 0), ("12", 1200), ("-0.05", -5), ("80.00", 8000)],
)
def test_parse_reads_decimal_strings_into_minor_units(text: str, minor: int) -> None:
    assert Money.parse(text, "EUR") == Money(minor, "EUR")


@pytest.mark.parametrize("bad", ["1.505", "abc", "", "1,50", " 1.50", "1.", ".5", "1e2", "+1"])
def test_parse_refuses_garbage_and_more_than_two_decimals(bad: str) -> None:
    with pytest.raises(ValueError):
        Money.parse(bad, "EUR")


@pytest.mark.parametrize("bad", [1.5, True, None, Decimal("1.505"), Decimal("NaN")])
def test_parse_refuses_floats_and_inexact_values(bad: object) -> None:
    with pytest.raises(ValueError):
        Money.parse(bad, "EUR")  # type: ignore[arg-type]


def test_parse_accepts_exact_decimals_and_whole_units() -> None:
    assert Money.parse(Decimal("2.5"), "CZK") == Money(250, "CZK")
    assert Money.parse(Decimal("1.500"), "EUR") == Money(150, "EUR")
    assert Money.parse(80, "CZK") == Money(8000, "CZK")


def test_constructor_refuses_float_bool_and_unknown_currency() -> None:
    with pytest.raises(ValueError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(True, "EUR")
    with pytest.raises(ValueError):
        Money(100, "USD")
    with pytest.raises(ValueError):
        Money.parse("1.00", "eur")


def test_str_and_to_decimal_show_exactly_two_decimals() -> None:
    assert str(eur("1.5")) == "1.50 EUR"
    assert str(Money(400, "CZK")) == "4.00 CZK"
    assert str(Money(-5, "EUR")) == "-0.05 EUR"
    assert str(Money.zero("EUR")) == "0.00 EUR"
    assert eur("1.50").to_decimal() == Decimal("1.50")
    assert str(eur("1.50").to_decimal()) == "1.50"


def test_arithmetic_within_one_currency() -> None:
    assert eur("1.50") + eur("3.00") == eur("4.50")
    assert eur("3.00") - eur("3.01") == eur("-0.01")
    assert -eur("1.00") == eur("-1.00")
    assert eur("0.20") * 30 == eur("6.00")
    assert 2 * Money(200, "CZK") == Money(400, "CZK")
    assert Money.total([eur("1.50"), eur("3.00")], "EUR") == eur("4.50")
    assert Money.total([], "CZK") == Money.zero("CZK")


def test_comparisons_within_one_currency() -> None:
    assert eur("10.01") > eur("10.00")
    assert eur("10.00") >= eur("10.00")
    assert eur("2.99") < eur("3.00")
    assert eur("3.00") <= eur("3.00")
    assert max(eur("1.00"), eur("2.00")) == eur("2.00")
    assert eur("0.00").is_zero and eur("0.01").is_positive and not eur("-0.01").is_positive


def test_mixing_currencies_is_refused() -> None:
    czk = Money(100, "CZK")
    for operation in (
        lambda: eur("1.00") + czk,
        lambda: eur("1.00") - czk,
        lambda: eur("1.00") < czk,
        lambda: eur("1.00") >= czk,
        lambda: Money.total([eur("1.00"), czk], "EUR"),
    ):
        with pytest.raises(ValueError, match="currency mismatch"):
            operation()
    assert eur("1.00") != Money(100, "CZK")  # equality is simply False, not an error


def test_money_never_mixes_with_plain_numbers() -> None:
    with pytest.raises(TypeError):
        eur("1.00") + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        eur("1.00") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        eur("1.00") * True
    with pytest.raises(TypeError):
        sum([eur("1.00")])  # type: ignore[arg-type]


def test_money_is_immutable_and_hashable() -> None:
    amount = eur("1.00")
    with pytest.raises(FrozenInstanceError):
        amount.minor = 5  # type: ignore[misc]
    assert {amount, eur("1.0")} == {amount}


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["EUR", "CZK"]))
def test_str_parses_back_to_the_same_money(minor: int, currency: str) -> None:
    amount = Money(minor, currency)
    text, code = str(amount).split(" ")
    assert Money.parse(text, code) == amount
    assert Money.parse(amount.to_decimal(), currency) == amount
