"""Overdue fines: per day with a cap [001], per started week [004], ILL flat fee [004]."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.circulation.fines import (
    accrued_fine,
    days_overdue,
    fine_delta_to_register,
    fine_for_days,
)
from app.circulation.money import Money
from app.circulation.policy import CirculationRules, FineModel
from app.circulation.presets import load_preset

HELSINKI = ZoneInfo("Europe/Helsinki")
PRAGUE = ZoneInfo("Europe/Prague")
UTC = ZoneInfo("UTC")


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def czk(text: str) -> Money:
    return Money.parse(text, "CZK")


def lumme_rules(material: str = "book") -> CirculationRules:
    return load_preset("lumme").rules_for("mikkeli", "adult", material)


def czech_rules(material: str = "book") -> CirculationRules:
    return load_preset("czech").rules_for("main", "adult", material)


CZECH_DUE = datetime(2024, 3, 1, 18, 0, tzinfo=PRAGUE)  # closing time on a Friday
LUMME_DUE = datetime(2024, 11, 4, 19, 0, tzinfo=HELSINKI)


def czech_fine(days_late: int, material: str = "book", childrens: bool = False) -> Money:
    return accrued_fine(
        due_at=CZECH_DUE,
        as_of=CZECH_DUE + timedelta(days=days_late, hours=-8),  # mid-morning, days_late later
        rules=czech_rules(material),
        currency="CZK",
        is_childrens_material=childrens,
    )


def lumme_fine(days_late: int, childrens: bool = False) -> Money:
    return accrued_fine(
        due_at=LUMME_DUE,
        as_of=LUMME_DUE + timedelta(days=days_late, hours=-6),
        rules=lumme_rules(),
        currency="EUR",
        is_childrens_material=childrens,
    )


def test_czech_item_8_days_late_pays_two_started_weeks() -> None:
    # [004] 2 CZK per item per started week: 8 days = weeks 1 and 2 started → 4 CZK.
    assert czech_fine(8) == czk("4.00")


@pytest.mark.parametrize(("days", "expected"), [(0, "0"), (1, "2"), (7, "2"), (14, "4"), (15, "6")])
def test_czech_started_weeks(days: int, expected: str) -> None:
    assert czech_fine(days) == czk(expected)


def test_czech_interlibrary_loan_one_day_late_pays_80() -> None:
    assert czech_fine(1, material="interlibrary_loan") == czk("80.00")
    assert czech_fine(30, material="interlibrary_loan") == czk("80.00")  # once, not per day
    assert czech_fine(0, material="interlibrary_loan") == czk("0")


def test_czech_childrens_material_is_fined_too() -> None:
    # [004] the fine applies to all departments of the library: 20 days = 3 started weeks.
    assert czech_fine(20, childrens=True) == czk("6.00")


def test_lumme_daily_fine_up_to_the_cap() -> None:
    # Chosen values (lumme.toml): 0.20 EUR a day, at most 6.00 EUR per item.
    assert lumme_fine(3) == eur("0.60")
    assert lumme_fine(30) == eur("6.00")
    assert lumme_fine(45) == eur("6.00")


def test_lumme_childrens_book_20_days_late_pays_no_daily_fine() -> None:
    # [001] children's and young people's material: only the notice letter fee (see test_notices).
    assert lumme_fine(20, childrens=True) == eur("0.00")


def test_outi_has_no_daily_fine() -> None:
    rules = load_preset("outi").rules_for(None, "adult", "book")
    due = datetime(2024, 1, 10, 20, 0, tzinfo=HELSINKI)
    assert accrued_fine(due_at=due, as_of=due + timedelta(days=35), rules=rules, currency="EUR") == eur("0")


def test_days_are_calendar_days_after_the_due_date_in_local_time() -> None:
    # Returned later on the due date (after closing): late, but no calendar day has passed.
    assert days_overdue(LUMME_DUE, LUMME_DUE + timedelta(hours=2)) == 0
    # 22:30 UTC is already 00:30 the next day in Helsinki: one day.
    assert days_overdue(LUMME_DUE, datetime(2024, 11, 4, 22, 30, tzinfo=UTC)) == 1
    assert days_overdue(LUMME_DUE, LUMME_DUE - timedelta(days=3)) == 0
    web_due = datetime(2024, 11, 4, 23, 59, 59, tzinfo=HELSINKI)
    assert days_overdue(web_due, datetime(2024, 11, 5, 0, 0, 30, tzinfo=HELSINKI)) == 1


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        days_overdue(datetime(2024, 1, 1), LUMME_DUE)
    with pytest.raises(ValueError):
        days_overdue(LUMME_DUE, datetime(2024, 1, 1))


def test_grace_days_forgive_short_delays_then_count_from_the_due_date() -> None:
    rules = replace(lumme_rules(), grace_days=2)
    due = LUMME_DUE

    def fine(days: int) -> Money:
        return accrued_fine(due_at=due, as_of=due + timedelta(days=days), rules=rules, currency="EUR")

    assert fine(2) == eur("0.00")
    assert fine(3) == eur("0.60")


def test_registering_at_renewal_and_again_at_return_never_double_charges() -> None:
    rules = lumme_rules()
    renewed_at = LUMME_DUE + timedelta(days=3, hours=-4)  # renewed 3 days late: 0.60
    at_renewal = accrued_fine(due_at=LUMME_DUE, as_of=renewed_at, rules=rules, currency="EUR")
    assert fine_delta_to_register(accrued=at_renewal, already_registered=eur("0")) == eur("0.60")
    # A retried renewal request for the same due period registers nothing more.
    assert fine_delta_to_register(accrued=at_renewal, already_registered=at_renewal) == eur("0")
    # The renewal starts a new due period; returned on time, nothing accrues for it.
    new_due = LUMME_DUE + timedelta(days=31)
    at_return = accrued_fine(due_at=new_due, as_of=new_due - timedelta(days=1), rules=rules, currency="EUR")
    assert fine_delta_to_register(accrued=at_return, already_registered=eur("0")) == eur("0")
    # Registering more later in the same period adds only the difference, never a negative.
    assert fine_delta_to_register(accrued=eur("1.00"), already_registered=eur("0.60")) == eur("0.40")
    assert fine_delta_to_register(accrued=eur("0.20"), already_registered=eur("0.60")) == eur("0")
    with pytest.raises(ValueError):
        fine_delta_to_register(accrued=eur("1.00"), already_registered=czk("1.00"))


def test_fine_for_days_refuses_negative_days_and_foreign_currency() -> None:
    with pytest.raises(ValueError):
        fine_for_days(-1, FineModel("per_day", eur("0.20")), "EUR")
    with pytest.raises(ValueError):
        fine_for_days(3, FineModel("per_day", eur("0.20")), "CZK")


# -- properties -----------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=10_000).map(lambda minor: Money(minor, "EUR"))


@st.composite
def fine_models(draw: st.DrawFn) -> FineModel:
    model = draw(st.sampled_from(["none", "per_day", "per_started_week", "flat_first_day"]))
    if model == "none":
        return FineModel("none")
    amount = draw(amounts)
    cap = None
    if model != "flat_first_day" and draw(st.booleans()):
        cap = amount * draw(st.integers(min_value=1, max_value=100))
    return FineModel(model, amount, cap)


moments = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.just(HELSINKI),
    allow_imaginary=False,
)


@given(
    fine=fine_models(),
    due=moments,
    first=st.timedeltas(min_value=timedelta(days=-10), max_value=timedelta(days=400)),
    extra=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
    grace=st.integers(min_value=0, max_value=3),
    childrens=st.booleans(),
)
def test_fines_are_monotone_capped_and_never_negative(
    fine: FineModel, due: datetime, first: timedelta, extra: timedelta, grace: int, childrens: bool
) -> None:
    rules = replace(lumme_rules(), fine=fine, grace_days=grace)

    def fine_after(elapsed: timedelta) -> Money:
        # Elapsed real time (UTC arithmetic), shown in the branch's zone as a service would.
        as_of = (due.astimezone(UTC) + elapsed).astimezone(HELSINKI)
        return accrued_fine(
            due_at=due, as_of=as_of, rules=rules, currency="EUR", is_childrens_material=childrens
        )

    earlier, later = fine_after(first), fine_after(first + extra)
    assert Money.zero("EUR") <= earlier <= later
    if fine.cap is not None:
        assert later <= fine.cap
    if fine.model == "flat_first_day":
        assert later <= fine.amount  # type: ignore[operator]
    if first <= timedelta(0):
        assert earlier.is_zero
