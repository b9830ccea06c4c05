"""Branch calendars: opening hours, closed days and the due times that depend on them.

A branch calendar is an immutable history of versions. Each version is in force from its
``valid_from`` date until the next version starts, so changing next month's hours never changes
the due date of a loan made last month, and a question about a date is answered by the version in
force on that date.

Rules implemented here [001]:
- a loan borrowed at a desk (or self-service station) is due at the branch's closing time on the
  due date; a loan made on the web or in a reader app is due at the end of the day (23:59:59);
- due dates never fall on a day the branch is closed: they move forward to the next open day;
- items left in a book drop are recorded as returned on the branch's next opening day.

All datetimes are timezone-aware, in the branch's IANA timezone (Europe/Helsinki, Europe/Prague).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LoanChannel = Literal["desk", "self_service", "web", "reader_app"]
# Loans made inside the branch end when the branch closes; remote loans end at midnight [001].
CHANNELS_DUE_AT_CLOSING: frozenset[str] = frozenset({"desk", "self_service"})
CHANNELS_DUE_AT_END_OF_DAY: frozenset[str] = frozenset({"web", "reader_app"})
END_OF_DAY = time(23, 59, 59)

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()

# A branch closed for longer than this is treated as a data error rather than searched forever.
MAX_CLOSED_RUN_DAYS = 366

_HOURS_TEXT = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """One opening interval on a day (a branch opens at most once a day in this model)."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening hours are local wall-clock times without a tzinfo")
        if not self.opens < self.closes:
            raise ValueError(f"opening hours must open before they close: {self.opens}-{self.closes}")

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Opening hours from "10:00-19:00"."""
        match = _HOURS_TEXT.fullmatch(text.strip())
        if not match:
            raise ValueError(f"opening hours must look like '10:00-19:00', got {text!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        return cls(time(h1, m1), time(h2, m2))


def _frozen_mapping(values: Mapping[date, OpeningHours] | None) -> Mapping[date, OpeningHours]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class CalendarVersion:
    """The opening rules in force from ``valid_from`` until the next version.

    Precedence on a given date: a closed date (holiday) wins, then exceptional hours (which may
    also open a normally closed weekday), then the weekly hours.
    """

    valid_from: date
    weekly: tuple[OpeningHours | None, ...]  # 7 entries, Monday first; None = closed that weekday
    closed_dates: frozenset[date] = frozenset()
    exceptional_hours: Mapping[date, OpeningHours] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly opening hours need exactly 7 entries, Monday first")
        object.__setattr__(self, "exceptional_hours", _frozen_mapping(self.exceptional_hours))
        both = self.closed_dates & set(self.exceptional_hours)
        if both:
            raise ValueError(f"dates both closed and with exceptional hours: {sorted(both)}")

    @classmethod
    def from_text(
        cls,
        valid_from: date,
        weekly: Mapping[str, str],
        closed_dates: Iterable[date] = (),
        exceptional_hours: Mapping[date, str] | None = None,
    ) -> CalendarVersion:
        """A version from readable data: ``{"mon": "10:00-19:00", ...}``; missing days are closed."""
        unknown = set(weekly) - set(WEEKDAY_NAMES)
        if unknown:
            raise ValueError(f"unknown weekday names {sorted(unknown)}; use {WEEKDAY_NAMES}")
        return cls(
            valid_from=valid_from,
            weekly=tuple(
                OpeningHours.parse(weekly[name]) if name in weekly else None for name in WEEKDAY_NAMES
            ),
            closed_dates=frozenset(closed_dates),
            exceptional_hours={
                day: OpeningHours.parse(text) for day, text in (exceptional_hours or {}).items()
            },
        )

    def hours_on(self, day: date) -> OpeningHours | None:
        if day in self.closed_dates:
            return None
        if day in self.exceptional_hours:
            return self.exceptional_hours[day]
        return self.weekly[day.weekday()]


@dataclass(frozen=True)
class BranchCalendar:
    """A branch's calendar history: versions sorted by ``valid_from``, never edited in place."""

    branch_code: str
    timezone: str
    versions: tuple[CalendarVersion, ...]

    def __post_init__(self) -> None:
        if not self.versions:
            raise ValueError("a branch calendar needs at least one version")
        starts = [version.valid_from for version in self.versions]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("calendar versions must have distinct valid_from dates, oldest first")
        try:  # fail at construction, not at the first due date
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.timezone!r} is not an IANA timezone") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_version(self, version: CalendarVersion, *, today: date) -> BranchCalendar:
        """A new calendar with ``version`` appended.

        The past and today are history: a version may only start tomorrow or later, and after
        every existing version, so answers already given (due dates, book-drop dates) stay true.
        """
        if version.valid_from <= today:
            raise ValueError(f"a new calendar version must start after today ({today})")
        if version.valid_from <= self.versions[-1].valid_from:
            raise ValueError("a new calendar version must start after the latest version")
        return BranchCalendar(self.branch_code, self.timezone, (*self.versions, version))

    def version_on(self, day: date) -> CalendarVersion:
        in_force = [version for version in self.versions if version.valid_from <= day]
        if not in_force:
            raise LookupError(f"branch {self.branch_code} has no calendar in force on {day}")
        return in_force[-1]

    # -- days -----------------------------------------------------------------------------------

    def hours_on(self, day: date) -> OpeningHours | None:
        return self.version_on(day).hours_on(day)

    def is_open(self, day: date) -> bool:
        """Whether the branch opens at all on ``day``."""
        return self.hours_on(day) is not None

    def opening_time(self, day: date) -> datetime | None:
        hours = self.hours_on(day)
        return None if hours is None else datetime.combine(day, hours.opens, tzinfo=self.zone)

    def closing_time(self, day: date) -> datetime | None:
        hours = self.hours_on(day)
        return None if hours is None else datetime.combine(day, hours.closes, tzinfo=self.zone)

    def next_open_day(self, day: date) -> date:
        """The first day on or after ``day`` when the branch is open."""
        candidate = day
        for _ in range(MAX_CLOSED_RUN_DAYS):
            if self.is_open(candidate):
                return candidate
            candidate += timedelta(days=1)
        raise ValueError(f"branch {self.branch_code} has no open day within a year of {day}")

    def adjust_due_date(self, due_date: date) -> date:
        """A due date on a closed day moves forward to the next open day [001]."""
        return self.next_open_day(due_date)

    # -- loans ----------------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the branch's timezone; naive datetimes are refused, not guessed."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"timezone-aware datetime required, got naive {moment!r}")
        return moment.astimezone(self.zone)

    def due_at(self, checkout_at: datetime, loan_days: int, channel: LoanChannel) -> datetime:
        """When a loan made (or renewed) at ``checkout_at`` for ``loan_days`` days is due.

        The due date is the local checkout date plus ``loan_days``, moved forward to an open day.
        Desk and self-service loans end at that day's closing time, web and reader-app loans at
        23:59:59 local time [001].
        """
        if loan_days < 1:
            raise ValueError(f"loan_days must be at least 1, got {loan_days}")
        nominal = self.local(checkout_at).date() + timedelta(days=loan_days)
        due_date = self.adjust_due_date(nominal)
        if channel in CHANNELS_DUE_AT_CLOSING:
            closing = self.closing_time(due_date)
            assert closing is not None  # due_date is an open day by construction
            return closing
        if channel in CHANNELS_DUE_AT_END_OF_DAY:
            return datetime.combine(due_date, END_OF_DAY, tzinfo=self.zone)
        raise ValueError(f"unknown loan channel {channel!r}")

    def book_drop_return_date(self, dropped_at: datetime) -> date:
        """The date a book-drop return is recorded: the branch's next opening day [001].

        An item dropped on an open day before closing time is inside the library while it is
        open, so it is recorded that day; one dropped after closing or on a closed day waits for
        the next open day (a Sunday drop is recorded on Monday when the branch opens Mondays).
        """
        local = self.local(dropped_at)
        closing = self.closing_time(local.date())
        if closing is not None and local < closing:
            return local.date()
        return self.next_open_day(local.date() + timedelta(days=1))
