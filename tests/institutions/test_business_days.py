"""Ages in Finnish business days: weekends, Easter, Midsummer and Christmas, paused while waiting."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.institutions import business_days
from app.institutions.models import InstitutionApplication
from app.institutions.review_queue import age_in_business_days, nearest_rank
from tests.institutions import helpers


def at(day: str, hour: int = 9) -> datetime:
    """A moment on a Finnish calendar day (09:00 UTC is 11:00/12:00 in Helsinki)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.mark.parametrize(("sent", "seen", "age"), [
    ("2026-11-23", "2026-11-23", 0),  # Monday, same day
    ("2026-11-23", "2026-11-25", 2),  # Monday → Wednesday
    ("2026-11-20", "2026-11-23", 1),  # Friday → Monday: the weekend does not count
    ("2026-11-21", "2026-11-24", 2),  # sent on Saturday: Monday is the first business day
    ("2026-11-27", "2026-12-02", 3),  # Friday → Wednesday across a weekend
    ("2026-04-02", "2026-04-07", 1),  # Easter 2026: Good Friday 3.4., Easter Monday 6.4. are holidays
    ("2026-04-01", "2026-04-08", 3),  # Wednesday before Easter → Wednesday after: Thu 2.4., Tue 7.4., Wed 8.4.
    ("2026-06-18", "2026-06-22", 1),  # Midsummer: Eve (Fri 19.6.) is not a business day, Day is a Saturday
    ("2026-06-17", "2026-06-22", 2),  # Thu 18.6. and Mon 22.6.
    ("2026-12-23", "2026-12-28", 1),  # Christmas Eve (Thu), Christmas Day, Boxing Day → Monday
    ("2026-12-04", "2026-12-08", 2),  # Independence Day 6.12. is a Sunday in 2026: Mon 7.12., Tue 8.12.
])
def test_age_counts_only_finnish_business_days(sent, seen, age):
    assert business_days.elapsed(at(sent), at(seen)) == age


def test_midsummer_eve_and_christmas_eve_are_never_business_days():
    for year in (2024, 2025, 2026, 2027):
        eve = business_days.midsummer_eve(year)
        assert eve.weekday() == 4 and 19 <= eve.day <= 25
        assert not business_days.is_business_day(eve)
    assert not business_days.is_business_day(date(2025, 12, 24))  # a Wednesday
    assert business_days.is_business_day(date(2025, 12, 31))  # New Year's Eve is a working day
    assert business_days.is_business_day(date(2026, 4, 30))  # so is May Day Eve
    assert not business_days.is_business_day(date(2026, 5, 14))  # Ascension Day


def test_days_are_finnish_calendar_days_not_utc_days():
    # 22:30 UTC on Friday 20.11. is 00:30 on Saturday in Helsinki: sent at the weekend.
    sent = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    assert business_days.local_date(sent) == date(2026, 11, 21)
    assert business_days.elapsed(sent, at("2026-11-23")) == 1


def _application(**values) -> InstitutionApplication:
    base = {"state": "submitted", "submitted_at": at("2026-11-16"), "paused_business_days": 0,
            "information_requested_at": None, "decided_at": None}
    return InstitutionApplication(**(base | values))


def test_the_clock_stands_still_while_waiting_for_the_applicant():
    now = at("2026-11-23")  # Monday; sent Monday a week earlier: 5 business days
    assert age_in_business_days(_application(), now) == 5
    waiting = _application(state="needs_information", information_requested_at=at("2026-11-18"))
    assert age_in_business_days(waiting, now) == 2  # stopped on Wednesday
    answered = _application(paused_business_days=2)  # waited Wed → Fri
    assert age_in_business_days(answered, now) == 3
    decided = _application(state="approved", decided_at=at("2026-11-17"))
    assert age_in_business_days(decided, now) == 1


def test_nearest_rank_percentile():
    assert nearest_rank([], 90) is None
    assert nearest_rank([3], 90) == 3
    assert nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert nearest_rank([5, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1], 90) == 2


def test_the_queue_page_shows_ages_across_easter_with_a_fixed_now(app, client, sm, now):
    helpers.reviewer(sm, now)
    app.config["FAKE_NOW"] = "2026-04-02T08:00:00+00:00"  # Thursday before Easter
    helpers.apply_via_api(client, name="Pääsiäiskoulu")
    app.config["FAKE_NOW"] = "2026-04-07T08:00:00+00:00"  # Tuesday after Easter Monday
    from tests import factories

    factories.login_staff(client, email="reviewer@test.kuulo")
    page = client.get("/staff/institutions/applications").text
    assert "Pääsiäiskoulu" in page and "1 business day" in page and "badge-late" not in page
    app.config["FAKE_NOW"] = "2026-04-10T08:00:00+00:00"  # Friday: Tue, Wed, Thu, Fri = 4
    page = client.get("/staff/institutions/applications").text
    assert "4 business days" in page and "badge-late" in page
    late = client.get("/staff/institutions/applications?age=past_target").text
    assert "Pääsiäiskoulu" in late
    assert "Pääsiäiskoulu" not in client.get("/staff/institutions/applications?age=within_target").text
