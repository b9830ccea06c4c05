"""The pure calendar: delivery dates, production starts, and the first period of a new member."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cdclub import calendar
from app.cdclub.calendar import CalendarRule
from app.cdclub.settings import business_days

FI = business_days("FI")
DEFAULT = CalendarRule()
NO_HOLIDAYS = calendar.weekday_business_days(frozenset())


def test_the_defaults_are_the_15th_moved_to_a_business_day_and_a_five_week_lead():
    assert (DEFAULT.delivery_day, DEFAULT.shift, DEFAULT.lead_time_days) == (15, "next_business_day", 35)


@pytest.mark.parametrize(("year", "month", "delivery"), [
    (2026, 12, date(2026, 12, 15)),  # a Tuesday
    (2027, 5, date(2027, 5, 17)),  # Saturday 15th → Monday 17th
    (2033, 4, date(2033, 4, 19)),  # Good Friday 15th, Easter weekend and Easter Monday → Tuesday
    (2042, 5, date(2042, 5, 16)),  # Ascension Day on Thursday 15th → Friday
])
def test_delivery_is_the_first_finnish_business_day_on_or_after_the_15th(year, month, delivery):
    period = calendar.period(year, month, DEFAULT, FI)
    assert period.delivery == delivery
    assert period.production_start == delivery - timedelta(weeks=5)
    assert period.key == f"{year}-{month:02d}"


def test_other_rules_are_configuration():
    back = CalendarRule(delivery_day=15, shift="previous_business_day", lead_time_days=28)
    assert calendar.delivery_date(2027, 5, back, FI) == date(2027, 5, 14)  # Friday before
    assert calendar.period(2027, 5, back, FI).production_start == date(2027, 4, 16)
    assert calendar.delivery_date(2027, 5, CalendarRule(shift="none"), FI) == date(2027, 5, 15)
    with pytest.raises(ValueError):
        CalendarRule(delivery_day=31)
    with pytest.raises(ValueError):
        CalendarRule(shift="whenever")  # type: ignore[arg-type]


def test_a_member_is_in_the_first_period_whose_production_start_is_after_the_join_date():
    december = calendar.period(2026, 12, DEFAULT, FI)  # production starts 10 Nov 2026
    assert calendar.first_period_for_join(december.production_start - timedelta(days=1), DEFAULT, FI) == december
    # Joining on the production start day itself is too late for that period.
    on_the_day = calendar.first_period_for_join(december.production_start, DEFAULT, FI)
    assert on_the_day.key == "2027-01"
    assert calendar.first_period_for_join(date(2026, 11, 23), DEFAULT, FI).delivery == date(2027, 1, 15)


def test_next_periods_start_today_or_later_in_order():
    periods = calendar.next_periods(date(2026, 11, 23), 3, DEFAULT, FI)
    assert [p.key for p in periods] == ["2027-01", "2027-02", "2027-03"]
    assert [p.production_start for p in periods] == [date(2026, 12, 11), date(2027, 1, 11), date(2027, 2, 8)]
    assert calendar.next_periods(date(2026, 12, 11), 1, DEFAULT, FI)[0].key == "2027-01"


def test_periods_started_between_finds_the_cut_offs_in_a_window():
    found = calendar.periods_started_between(date(2026, 11, 1), date(2026, 12, 31), DEFAULT, FI)
    assert [p.key for p in found] == ["2026-12", "2027-01"]


def test_a_long_lead_time_still_finds_every_period():
    rule = CalendarRule(lead_time_days=100)
    keys = [p.key for p in calendar.next_periods(date(2027, 1, 1), 4, rule, NO_HOLIDAYS)]
    assert keys == ["2027-04", "2027-05", "2027-06", "2027-07"]


def test_period_keys_are_checked():
    assert calendar.parse_period_key("2027-01") == (2027, 1)
    for bad in ("2027-13", "27-01", "2027/01", ""):
        with pytest.raises(ValueError):
            calendar.parse_period_key(bad)


def _first_delivery_gap(join: date) -> tuple[int, int]:
    first = calendar.first_period_for_join(join, DEFAULT, FI)
    assert first.production_start > join
    return calendar.months_between(join, first.delivery), (first.delivery - join).days


@settings(max_examples=400, deadline=None)
@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2040, 12, 31)))
def test_property_the_first_club_books_come_one_to_two_months_after_joining(join):
    """[002]: "a new member gets the first club books 1–2 months after joining" — with the defaults,
    the first delivery is in the first or second calendar month after the month of joining, and at
    least a full month (more than the 5-week lead) but never more than ten weeks later."""
    months, days = _first_delivery_gap(join)
    assert months in (1, 2)
    assert 35 < days <= 70


def test_every_join_date_over_six_years_gets_its_first_books_in_one_to_two_months():
    day, worst, best = date(2026, 1, 1), 0, 999
    while day < date(2032, 1, 1):
        months, days = _first_delivery_gap(day)
        assert months in (1, 2), day
        worst, best = max(worst, days), min(best, days)
        day += timedelta(days=1)
    assert best >= 36 and worst <= 70
