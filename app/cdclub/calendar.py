"""The CD club calendar: pure date arithmetic, standard library only.

A club period is a calendar month. Its CDs reach the members on the period's *delivery date*
(by default the first business day on or after the 15th) and their production starts a lead time
earlier (by default five weeks): that production start is the period's cut-off [002]. A member
who joins on date D is in the first period whose production start falls *after* D, so a new
member's first club books arrive a little over one and under about two and a half months later —
in the first or second calendar month after the month they joined, with the defaults.

Which days are business days is a caller's decision (weekends and the Finnish public holidays
from the ``holidays`` package, in the service layer): every function here takes an
``is_business_day`` predicate, so this module stays free of I/O and third-party code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

BusinessDay = Callable[[date], bool]
# How the delivery date moves when the nominal day is not a business day.
Shift = Literal["next_business_day", "previous_business_day", "none"]
SHIFTS: tuple[str, ...] = ("next_business_day", "previous_business_day", "none")
# Searching this far for a business day means the holiday data is wrong.
MAX_SHIFT_DAYS = 31
_PERIOD_KEY = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class CalendarRule:
    """When a period's CDs arrive and how long before that their production starts."""

    delivery_day: int = 15  # nominal day of the month (1–28)
    shift: Shift = "next_business_day"
    lead_time_days: int = 35  # five weeks

    def __post_init__(self) -> None:
        if not 1 <= self.delivery_day <= 28:
            raise ValueError("the delivery day must be between 1 and 28")
        if self.shift not in SHIFTS:
            raise ValueError(f"unknown shift rule {self.shift!r}")
        if not 0 <= self.lead_time_days <= 120:
            raise ValueError("the lead time must be between 0 and 120 days")


@dataclass(frozen=True, order=True)
class Period:
    """One club period: the month its CDs are delivered in, with its two dates."""

    year: int
    month: int
    production_start: date
    delivery: date

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def weekday_business_days(holiday_dates: Container[date]) -> BusinessDay:
    """Monday–Friday, except the given holidays."""
    return lambda day: day.weekday() < 5 and day not in holiday_dates


def parse_period_key(key: str) -> tuple[int, int]:
    match = _PERIOD_KEY.fullmatch(key.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"a period is written YYYY-MM, got {key!r}")
    return int(match.group(1)), int(match.group(2))


def _step(day: date, direction: int, is_business_day: BusinessDay) -> date:
    for _ in range(MAX_SHIFT_DAYS):
        if is_business_day(day):
            return day
        day += timedelta(days=direction)
    raise ValueError(f"no business day within {MAX_SHIFT_DAYS} days of {day}")


def delivery_date(year: int, month: int, rule: CalendarRule, is_business_day: BusinessDay) -> date:
    nominal = date(year, month, rule.delivery_day)
    if rule.shift == "next_business_day":
        return _step(nominal, 1, is_business_day)
    if rule.shift == "previous_business_day":
        return _step(nominal, -1, is_business_day)
    return nominal


def period(year: int, month: int, rule: CalendarRule, is_business_day: BusinessDay) -> Period:
    delivery = delivery_date(year, month, rule, is_business_day)
    return Period(year, month, delivery - timedelta(days=rule.lead_time_days), delivery)


def period_by_key(key: str, rule: CalendarRule, is_business_day: BusinessDay) -> Period:
    year, month = parse_period_key(key)
    return period(year, month, rule, is_business_day)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def periods_from(start: date, rule: CalendarRule, is_business_day: BusinessDay) -> Iterator[Period]:
    """Every period whose production start is on or after ``start``, in order (endless)."""
    # The production start of month M can fall months earlier when the lead time is long: start early.
    back = math.ceil(rule.lead_time_days / 28) + 1
    year, month = start.year, start.month
    for _ in range(back):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    while True:
        candidate = period(year, month, rule, is_business_day)
        if candidate.production_start >= start:
            yield candidate
        year, month = _next_month(year, month)


def next_periods(start: date, count: int, rule: CalendarRule, is_business_day: BusinessDay) -> list[Period]:
    """The ``count`` periods whose production start is on or after ``start``."""
    found: list[Period] = []
    for candidate in periods_from(start, rule, is_business_day):
        if len(found) == count:
            break
        found.append(candidate)
    return found


def first_period_for_join(join_date: date, rule: CalendarRule, is_business_day: BusinessDay) -> Period:
    """The first period of a member who joins on ``join_date``: its production start is after that day."""
    return next(periods_from(join_date + timedelta(days=1), rule, is_business_day))


def periods_started_between(first: date, last: date, rule: CalendarRule,
                            is_business_day: BusinessDay) -> list[Period]:
    """Periods whose production start falls in [first, last] (for jobs catching up after a pause)."""
    found: list[Period] = []
    for candidate in periods_from(first, rule, is_business_day):
        if candidate.production_start > last:
            break
        found.append(candidate)
    return found


def months_between(earlier: date, later: date) -> int:
    """Calendar months from ``earlier``'s month to ``later``'s month (Nov → Jan is 2)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month
