"""Branch calendars: open days, due times by channel, book drops, calendar history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.circulation.calendar import BranchCalendar, CalendarVersion, OpeningHours

HELSINKI = ZoneInfo("Europe/Helsinki")
PRAGUE = ZoneInfo("Europe/Prague")
UTC = ZoneInfo("UTC")

INDEPENDENCE_DAY = date(2024, 12, 6)  # a Friday; Finnish libraries are closed
CHRISTMAS_EVE = date(2024, 12, 24)  # a Tuesday with short hours

WEEKLY = {
    "mon": "10:00-19:00",
    "tue": "10:00-19:00",
    "wed": "10:00-19:00",
    "thu": "10:00-19:00",
    "fri": "10:00-17:00",
    "sat": "10:00-15:00",
}  # closed on Sundays


def mikkeli() -> BranchCalendar:
    version = CalendarVersion.from_text(
        date(2024, 1, 1),
        WEEKLY,
        closed_dates=[INDEPENDENCE_DAY, date(2024, 12, 25), date(2024, 12, 26)],
        exceptional_hours={CHRISTMAS_EVE: "09:00-12:00"},
    )
    return BranchCalendar("mikkeli", "Europe/Helsinki", (version,))


def helsinki(*args: int) -> datetime:
    return datetime(*args, tzinfo=HELSINKI)  # type: ignore[misc]


def test_weekly_hours_holidays_and_exceptional_hours() -> None:
    calendar = mikkeli()
    assert calendar.is_open(date(2024, 11, 11))  # Monday
    assert not calendar.is_open(date(2024, 11, 10))  # Sunday
    assert not calendar.is_open(INDEPENDENCE_DAY)
    assert calendar.closing_time(date(2024, 11, 8)) == helsinki(2024, 11, 8, 17, 0)  # Friday
    assert calendar.closing_time(CHRISTMAS_EVE) == helsinki(2024, 12, 24, 12, 0)
    assert calendar.opening_time(CHRISTMAS_EVE) == helsinki(2024, 12, 24, 9, 0)
    assert calendar.closing_time(date(2024, 11, 10)) is None


def test_next_open_day_is_on_or_after_the_date() -> None:
    calendar = mikkeli()
    assert calendar.next_open_day(date(2024, 11, 11)) == date(2024, 11, 11)
    assert calendar.next_open_day(date(2024, 11, 10)) == date(2024, 11, 11)
    assert calendar.next_open_day(INDEPENDENCE_DAY) == date(2024, 12, 7)
    assert calendar.next_open_day(date(2024, 12, 25)) == date(2024, 12, 27)


def test_desk_loan_is_due_at_closing_time_of_the_due_date() -> None:
    # Borrowed on Monday 4.11.2024; 28 days later is Monday 2.12., closing at 19:00 [001].
    due = mikkeli().due_at(helsinki(2024, 11, 4, 12, 30), 28, "desk")
    assert due == helsinki(2024, 12, 2, 19, 0)
    assert mikkeli().due_at(helsinki(2024, 11, 4, 12, 30), 28, "self_service") == due


def test_web_and_reader_app_loans_are_due_at_the_end_of_the_day() -> None:
    calendar = mikkeli()
    for channel in ("web", "reader_app"):
        assert calendar.due_at(helsinki(2024, 11, 4, 12, 30), 28, channel) == helsinki(
            2024, 12, 2, 23, 59, 59
        )


def test_due_date_on_a_closed_day_moves_forward_to_the_next_open_day() -> None:
    calendar = mikkeli()
    # Friday 8.11. + 28 days = Independence Day (closed) → Saturday 7.12., closing 15:00.
    assert calendar.due_at(helsinki(2024, 11, 8, 11, 0), 28, "desk") == helsinki(2024, 12, 7, 15, 0)
    # Saturday + 1 day = Sunday (closed) → Monday, also for web loans.
    assert calendar.due_at(helsinki(2024, 11, 9, 11, 0), 1, "web") == helsinki(2024, 11, 11, 23, 59, 59)
    assert calendar.adjust_due_date(date(2024, 12, 25)) == date(2024, 12, 27)


def test_the_loan_day_is_the_local_date_not_the_utc_date() -> None:
    # 23:30 UTC on Monday is already Tuesday 01:30 in Helsinki.
    checkout = datetime(2024, 11, 4, 23, 30, tzinfo=UTC)
    assert mikkeli().due_at(checkout, 14, "desk") == helsinki(2024, 11, 19, 19, 0)


def test_due_time_across_daylight_saving_time_has_the_winter_offset() -> None:
    due = mikkeli().due_at(helsinki(2024, 10, 1, 12, 0), 28, "desk")  # DST ends 27.10.
    assert due == helsinki(2024, 10, 29, 19, 0)
    assert due.utcoffset() == timedelta(hours=2)
    assert helsinki(2024, 10, 1, 12, 0).utcoffset() == timedelta(hours=3)


def test_due_at_refuses_naive_datetimes_unknown_channels_and_zero_days() -> None:
    calendar = mikkeli()
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.due_at(datetime(2024, 11, 4, 12, 0), 28, "desk")
    with pytest.raises(ValueError, match="channel"):
        calendar.due_at(helsinki(2024, 11, 4, 12, 0), 28, "carrier_pigeon")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        calendar.due_at(helsinki(2024, 11, 4, 12, 0), 0, "desk")


def test_book_drop_on_a_sunday_is_recorded_on_monday() -> None:
    assert mikkeli().book_drop_return_date(helsinki(2024, 11, 10, 14, 0)) == date(2024, 11, 11)


def test_book_drop_after_closing_waits_for_the_next_open_day() -> None:
    calendar = mikkeli()
    assert calendar.book_drop_return_date(helsinki(2024, 11, 11, 20, 0)) == date(2024, 11, 12)
    # Thursday evening before Independence Day → Saturday.
    assert calendar.book_drop_return_date(helsinki(2024, 12, 5, 21, 0)) == date(2024, 12, 7)
    # Before closing on an open day the item is in the open library: recorded that day.
    assert calendar.book_drop_return_date(helsinki(2024, 11, 11, 8, 0)) == date(2024, 11, 11)
    assert calendar.book_drop_return_date(helsinki(2024, 11, 11, 18, 59)) == date(2024, 11, 11)


def test_lookups_use_the_version_in_force_on_the_date_asked() -> None:
    first = CalendarVersion.from_text(date(2024, 1, 1), WEEKLY)
    no_saturdays = {day: hours for day, hours in WEEKLY.items() if day != "sat"}
    second = CalendarVersion.from_text(date(2025, 1, 1), no_saturdays)
    calendar = BranchCalendar("juva", "Europe/Helsinki", (first,)).with_version(
        second, today=date(2024, 12, 1)
    )
    assert calendar.is_open(date(2024, 12, 28))  # a Saturday under the old hours
    assert not calendar.is_open(date(2025, 1, 4))  # a Saturday under the new hours
    # A loan due on Saturday 4.1.2025 moves to Monday under the version in force then.
    assert calendar.due_at(helsinki(2024, 12, 10, 12, 0), 25, "desk") == helsinki(2025, 1, 6, 19, 0)
    assert calendar.version_on(date(2024, 12, 31)) is first


def test_history_is_immutable() -> None:
    original = BranchCalendar(
        "juva", "Europe/Helsinki", (CalendarVersion.from_text(date(2024, 1, 1), WEEKLY),)
    )
    later = CalendarVersion.from_text(date(2025, 1, 1), {"mon": "12:00-16:00"})
    with pytest.raises(ValueError, match="after today"):
        original.with_version(later, today=date(2025, 1, 1))  # cannot rewrite today
    extended = original.with_version(later, today=date(2024, 12, 31))
    assert len(original.versions) == 1 and len(extended.versions) == 2
    with pytest.raises(ValueError, match="latest"):
        extended.with_version(CalendarVersion.from_text(date(2024, 6, 1), WEEKLY), today=date(2024, 5, 1))
    with pytest.raises(LookupError):
        original.is_open(date(2023, 12, 31))


def test_calendar_validation() -> None:
    with pytest.raises(ValueError):
        OpeningHours(time(19, 0), time(10, 0))
    with pytest.raises(ValueError):
        OpeningHours.parse("10-19")
    with pytest.raises(ValueError, match="weekday"):
        CalendarVersion.from_text(date(2024, 1, 1), {"monday": "10:00-19:00"})
    with pytest.raises(ValueError, match="both closed"):
        CalendarVersion.from_text(
            date(2024, 1, 1),
            WEEKLY,
            closed_dates=[CHRISTMAS_EVE],
            exceptional_hours={CHRISTMAS_EVE: "09:00-12:00"},
        )
    with pytest.raises(ValueError):
        CalendarVersion(date(2024, 1, 1), (None,) * 6)
    version = CalendarVersion.from_text(date(2024, 1, 1), WEEKLY)
    with pytest.raises(ValueError):
        BranchCalendar("x", "Europe/Helsinki", (version, version))
    with pytest.raises(ValueError):
        BranchCalendar("x", "Europe/Helsinki", ())
    with pytest.raises(ValueError, match="IANA"):
        BranchCalendar("x", "Europe/Mikkeli", (version,))


def test_a_branch_that_never_opens_is_a_data_error() -> None:
    closed = BranchCalendar("x", "Europe/Helsinki", (CalendarVersion.from_text(date(2024, 1, 1), {}),))
    with pytest.raises(ValueError, match="no open day"):
        closed.next_open_day(date(2024, 3, 1))


def test_exceptional_hours_can_open_a_normally_closed_day() -> None:
    sunday = date(2024, 11, 10)
    version = CalendarVersion.from_text(date(2024, 1, 1), WEEKLY, exceptional_hours={sunday: "12:00-16:00"})
    calendar = BranchCalendar("mikkeli", "Europe/Helsinki", (version,))
    assert calendar.is_open(sunday)
    assert calendar.due_at(helsinki(2024, 11, 9, 10, 0), 1, "desk") == helsinki(2024, 11, 10, 16, 0)


def test_prague_branch_uses_its_own_timezone() -> None:
    version = CalendarVersion.from_text(date(2024, 1, 1), {"mon": "09:00-18:00", "wed": "09:00-18:00"})
    calendar = BranchCalendar("main", "Europe/Prague", (version,))
    # Monday 4.3.2024 + 28 = Monday 1.4.2024 (Easter Monday is not in this calendar), after DST.
    due = calendar.due_at(datetime(2024, 3, 4, 9, 0, tzinfo=PRAGUE), 28, "desk")
    assert due == datetime(2024, 4, 1, 18, 0, tzinfo=PRAGUE)
    assert due.utcoffset() == timedelta(hours=2)
    # Due on Tuesday → Wednesday.
    assert calendar.due_at(datetime(2024, 3, 4, 9, 0, tzinfo=PRAGUE), 1, "web") == datetime(
        2024, 3, 6, 23, 59, 59, tzinfo=PRAGUE
    )
