"""Reports at the desk: loans, returns, holds, fees charged and paid per branch and day or month, the overdue
list, CSV downloads and an accessible SVG chart; one grouped query per figure whatever the number of rows."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from app import db
from app.circulation import service
from app.circulation.desk.reports import build_report
from app.circulation.models import CircLibrary
from app.circulation.service_common import add_fee
from tests.circulation.helpers import borrower, item, lend, money
from tests.desk.conftest import login

pytestmark = pytest.mark.usefixtures("desk")


def scenario(sm: Any, now: Any, *, loans: int = 3) -> int:
    """On 2026-11-20 (local) ``loans`` loans at Mikkeli and one at Savonlinna; two returns at Mikkeli on
    2026-11-22; a hold; a 2.00 fee charged and 1.50 paid; one loan long overdue (from October)."""
    day = now - timedelta(days=3)
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        barcodes = [item(s, now, "lumme") for _ in range(loans)]
        for barcode in barcodes:
            lend(s, day, "lumme", patron, barcode)
        lend(s, day, "lumme", patron, item(s, now, "lumme", branch="savonlinna"), branch="savonlinna")
        for barcode in barcodes[:2]:
            service.checkin(s, item_barcode=barcode, branch="mikkeli", now=now - timedelta(days=1), actor="t")
        old = lend(s, now - timedelta(days=60), "lumme", patron, item(s, now, "lumme", record_key="isbn:1"))
        assert old.due_at < now
        other = borrower(s, now, "lumme")
        service.place_hold(s, patron_id=other, record_key="isbn:1", now=day, actor="t")
        add_fee(s, patron_id=patron, library_id=old.library_id, kind="overdue_fine", amount=money("lumme", "2.00"),
                reason="test", now=day, actor="t", dedup_key="test-fee", loan_id=old.id)
        service.pay_at_desk(s, patron_id=patron, amount=money("lumme", "1.50"), now=day, actor="t")
        return patron


def test_the_report_counts_per_branch_and_day_with_csv_and_chart(client, sm, now):
    scenario(sm, now)
    login(client, "clerk@test.kuulo")
    page = client.get("/staff/desk/reports?start=2026-11-01&end=2026-11-23&grain=day&branch=")
    assert page.status_code == 200, page.text
    text = page.text
    assert "4 loans, 2 returns and 1 holds from 1 Nov 2026 to 23 Nov 2026." in text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text and 'role="img"' in text
    assert '<title id="chart-title">Loans and returns per day</title>' in text and 'aria-describedby="report-table"' in text
    assert '<table id="report-table">' in text
    figures = client.get("/staff/desk/reports?start=2026-11-01&end=2026-11-23&grain=day&branch=&download=figures")
    assert figures.mimetype == "text/csv" and "attachment" in figures.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(figures.text)))
    by = {(r["period"], r["branch"]): r for r in rows}
    assert by[("2026-11-20", "Mikkeli")]["loans"] == "3" and by[("2026-11-20", "Savonlinna")]["loans"] == "1"
    assert by[("2026-11-22", "Mikkeli")]["returns"] == "2"
    assert by[("2026-11-20", "Mikkeli")]["fees_charged_EUR"] == "2.00"
    assert by[("2026-11-20", "Mikkeli")]["fees_paid_EUR"] == "1.50"
    assert by[("2026-11-20", "Mikkeli")]["holds"] == "1"
    month = client.get("/staff/desk/reports?start=2026-09-01&end=2026-11-23&grain=month&branch=&download=figures")
    months = {(r["period"], r["branch"]): r["loans"] for r in csv.DictReader(io.StringIO(month.text))}
    assert months[("2026-11", "Mikkeli")] == "3" and months[("2026-09", "Mikkeli")] == "1"
    overdue = client.get("/staff/desk/reports?start=2026-11-01&end=2026-11-23&grain=day&download=overdue")
    lines = list(csv.DictReader(io.StringIO(overdue.text)))
    assert len(lines) == 1 and int(lines[0]["days_overdue"]) > 0 and lines[0]["card_number"]


def test_one_grouped_query_per_figure_whatever_the_rows(app, sm, now):
    scenario(sm, now, loans=2)
    counts = []
    for extra in (0, 1):
        if extra:
            scenario(sm, now, loans=8)
        statements: list[str] = []

        def count(*_args: Any, seen: list[str] = statements) -> None:
            seen.append("x")

        engine = db.engine(app)
        event.listen(engine, "before_cursor_execute", count)
        try:
            with sm.begin() as s:
                lib = s.scalar(select(CircLibrary).where(CircLibrary.code == "lumme"))
                statements.clear()
                report = build_report(s, lib, start=now.date() - timedelta(days=30), end=now.date(), grain="day",
                                      branch_id=None)
                counts.append(len(statements))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert report.totals["loans"] >= 2
    assert counts[0] == counts[1] <= 7  # branch names, zones, and the five figures


def test_bad_periods_are_refused_in_words(client, sm, now):
    login(client, "clerk@test.kuulo")
    resp = client.get("/staff/desk/reports?start=2026-11-23&end=2026-11-01&grain=day")
    assert resp.status_code == 422 and "The end comes before the start." in resp.text
    resp = client.get("/staff/desk/reports?start=2024-01-01&end=2026-11-01&grain=day")
    assert resp.status_code == 422 and "Choose a period of at most a year." in resp.text
    resp = client.get("/staff/desk/reports?start=x&end=%00&grain=year&branch=abc")
    assert resp.status_code == 422
    page = client.get("/staff/desk/reports")
    assert page.status_code == 200 and 'value="2026-11-01"' in page.text and "Show the report" in page.text
