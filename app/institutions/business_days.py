"""Finnish business days: the clock of the institution review target (1–2 business days) [002].

A business day is Monday to Friday that is not a Finnish public holiday (the ``holidays``
package, category "public") and not Midsummer Eve or Christmas Eve.

Midsummer Eve (juhannusaatto, the Friday between 19 and 25 June) and Christmas Eve (jouluaatto,
24 December) are not public holidays by law, and older releases of ``holidays`` leave them out
of ``holidays.Finland()`` (newer ones include them as bank holidays). Offices, including Celia's
reviewers, are closed on both, so Kuulo adds them itself: they never count as business days,
whatever the installed ``holidays`` release says. Other eves (May Day Eve, New Year's Eve) are
ordinary working days.

Days are counted in Finnish local time (Europe/Helsinki): an application sent at 00:30 on
Saturday in Helsinki was sent on Saturday, even though it is still Friday in UTC.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

FINNISH_TIME = ZoneInfo("Europe/Helsinki")


def midsummer_eve(year: int) -> date:
    """The Friday between 19 and 25 June."""
    june_19 = date(year, 6, 19)
    return june_19 + timedelta(days=(4 - june_19.weekday()) % 7)


@lru_cache(maxsize=64)
def days_off(year: int) -> frozenset[date]:
    """Every weekday that is not a business day in ``year``."""
    public = holidays.Finland(years=year, categories=("public",))
    extra = {midsummer_eve(year), date(year, 12, 24)}
    return frozenset(set(public.keys()) | extra)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in days_off(day.year)


def local_date(moment: datetime) -> date:
    return moment.astimezone(FINNISH_TIME).date()


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when end <= start).

    Sent on Monday and looked at on Tuesday: 1; on Wednesday: 2; sent on Saturday: Monday is 1.
    """
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        if is_business_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def elapsed(start: datetime, end: datetime) -> int:
    """Business days between two moments, counted on Finnish calendar dates."""
    return business_days_between(local_date(start), local_date(end))
