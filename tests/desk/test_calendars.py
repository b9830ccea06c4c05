"""Branch calendars at the desk: a supervisor changes the hours from a later day, closes days (loans never
fall due on them), imports public holidays idempotently and sets the self-service hours; a clerk only reads."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.circulation import service
from app.circulation.desk.calendars import import_holidays, public_holidays
from app.circulation.models import Branch, CalendarVersionRow
from app.circulation.service_common import branch_calendar
from app.circulation.sip2.models import SelfServiceBranch
from tests.circulation.helpers import borrower, item
from tests.desk.conftest import login

pytestmark = pytest.mark.usefixtures("desk")


def mikkeli(sm: Any) -> int:
    with sm.begin() as s:
        return s.scalar(select(Branch.id).where(Branch.code == "mikkeli"))


def versions(sm: Any, branch_id: int) -> int:
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(CalendarVersionRow)
                        .where(CalendarVersionRow.branch_id == branch_id))


WEEK = {"mon": "10:00-19:00", "tue": "10:00-19:00", "wed": "10:00-19:00", "thu": "10:00-19:00",
        "fri": "10:00-18:00", "sat": "10:00-15:00", "sun": ""}


def test_a_clerk_sees_the_calendar_but_only_a_supervisor_changes_it(client, sm, now):
    branch = mikkeli(sm)
    login(client, "clerk@test.kuulo")
    page = client.get("/staff/desk/calendars")
    assert page.status_code == 200 and "Mikkeli" in page.text and "10:00-19:00" in page.text
    assert "A circulation supervisor changes the calendars." in page.text
    assert "<li>6 Dec 2026</li>" in page.text
    resp = client.post(f"/staff/desk/calendars/{branch}/version", data={"valid_from": "2026-12-01", **WEEK})
    assert resp.status_code == 403
    assert client.get("/staff/desk/calendars?branch=99999").status_code == 404
    assert client.get("/staff/desk/calendars?branch=x%00").status_code == 404


def test_a_closed_day_moves_the_due_date_of_loans_made_after_the_change(client, sm, now):
    branch = mikkeli(sm)
    login(client, "super@test.kuulo")
    # Loans made on Monday 2026-11-23 for 28 days fall due on Monday 2026-12-21; close that day.
    resp = client.post(f"/staff/desk/calendars/{branch}/version", data={
        "valid_from": "2026-11-24", **WEEK, "closed_dates": "2026-12-21\n2026-12-24\n2026-12-25",
        "exceptional_hours": "2026-12-23 10:00-15:00"})
    assert resp.status_code == 302, resp.text
    page = client.get(resp.headers["Location"])
    assert "The new opening hours of Mikkeli are in force from 2026-11-24." in page.text
    with sm.begin() as s:
        calendar = branch_calendar(s, s.get(Branch, branch))
        assert not calendar.is_open(date(2026, 12, 21))
        assert calendar.closing_time(date(2026, 12, 23)).hour == 15
        due = calendar.due_at(datetime(2026, 11, 24, 10, tzinfo=now.tzinfo), 27, "desk")
        assert due.date() == date(2026, 12, 22)  # 2026-12-21 is closed: the next open day
    # A change cannot rewrite today or the past.
    resp = client.post(f"/staff/desk/calendars/{branch}/version", data={"valid_from": "2026-11-23", **WEEK})
    assert resp.status_code == 422 and "must start after today" in resp.text
    resp = client.post(f"/staff/desk/calendars/{branch}/version", data={"valid_from": "2026-12-30", **WEEK,
                                                                          "mon": "19:00-10:00"})
    assert resp.status_code == 422 and "Give the hours as 10:00-19:00" in resp.text


def test_loans_at_the_desk_fall_due_on_an_open_day(client, sm, now):
    branch = mikkeli(sm)
    login(client, "super@test.kuulo")
    closed = "\n".join((date(2026, 12, 1) + timedelta(days=n)).isoformat() for n in range(40))
    assert client.post(f"/staff/desk/calendars/{branch}/version", data={
        "valid_from": "2026-11-24", **WEEK, "closed_dates": closed}).status_code == 302
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        barcode = item(s, now, "lumme")
        loan = service.checkout(s, patron_id=patron, item_barcode=barcode, branch="mikkeli",
                                now=now + timedelta(days=1), actor="t").loan
        assert loan is not None and loan.due_at.date() >= date(2027, 1, 10)


def test_public_holidays_import_once_as_closed_days(client, sm, now):
    branch = mikkeli(sm)
    holidays_2027 = public_holidays("FI", 2027)
    assert date(2027, 12, 6) in holidays_2027 and date(2027, 1, 1) in holidays_2027
    login(client, "super@test.kuulo")
    before = versions(sm, branch)
    resp = client.post(f"/staff/desk/calendars/{branch}/holidays", data={"country": "FI", "year": "2027"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert f"{len(holidays_2027)} public holidays of 2027 are now closed days at Mikkeli." in page.text
    assert versions(sm, branch) == before + 1
    resp = client.post(f"/staff/desk/calendars/{branch}/holidays", data={"country": "FI", "year": "2027"})
    page = client.get(resp.headers["Location"])
    assert "Nothing to add" in page.text and versions(sm, branch) == before + 1
    with sm.begin() as s:
        calendar = branch_calendar(s, s.get(Branch, branch))
        assert not calendar.is_open(date(2027, 12, 6)) and not calendar.is_open(date(2027, 1, 6))
        assert calendar.is_open(date(2027, 1, 7))
        # The service itself is idempotent too.
        assert import_holidays(s, s.get(Branch, branch), country="FI", year=2027, now=now, actor="t") == []
    assert client.post(f"/staff/desk/calendars/{branch}/holidays",
                       data={"country": "XX", "year": "2027"}).status_code == 422
    assert client.post(f"/staff/desk/calendars/{branch}/holidays",
                       data={"country": "FI", "year": "99999"}).status_code == 422


def test_self_service_hours_are_set_by_a_supervisor(client, sm, now):
    branch = mikkeli(sm)
    login(client, "super@test.kuulo")
    resp = client.post(f"/staff/desk/calendars/{branch}/self-service", data={
        "enabled": "y", "opens": "07:00", "closes": "22:00", "minimum_age": "15"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert "Open to self-service every day 07:00–22:00." in page.text
    with sm.begin() as s:
        row = s.get(SelfServiceBranch, branch)
        assert row.enabled and (row.opens, row.closes) == ("07:00", "22:00")
    resp = client.post(f"/staff/desk/calendars/{branch}/self-service", data={
        "enabled": "y", "opens": "22:00", "closes": "07:00", "minimum_age": "15"})
    assert resp.status_code == 422 and "opening before closing" in resp.text
