"""Online clubs: on the delivery date the titles go onto each member's shelf as loans, through lending."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app import scheduler
from app.cdclub import catalogue, production
from app.cdclub.models import OnlineDelivery, ProductionRun
from app.lending import service as lending
from app.lending.models import EbookLoan
from tests.cdclub import helpers

JANUARY_CUT_OFF = datetime(2026, 12, 10, 22, 5, tzinfo=UTC)
DELIVERY_DAY = datetime(2027, 1, 14, 22, 35, tzinfo=UTC)  # 15 Jan 2027 00:35 in Helsinki
DELIVER = "cdclub-deliver-runs"


@pytest.fixture()
def online_run(app, sm, now):
    with helpers.tx(app, sm) as s:
        club = helpers.club(s, now, code="verkkoklubi", delivery_format="online", books=2)
        conf = helpers.club_settings(app)
        for title in ("Romaani yksi", "Romaani kaksi"):
            production.add_title(s, club, "2027-01", helpers.book(s, now, title).id, now=now, actor="test",
                                 settings=conf)
        patrons = [helpers.member(s, app, club, now, f"Kuuntelija {n}").patron_id for n in range(4)]
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    return {"club_id": club.id, "patron_ids": patrons}


def _loans(s):
    return list(s.scalars(select(EbookLoan).order_by(EbookLoan.patron_id, EbookLoan.audiobook_id)))


def test_the_delivery_job_lends_every_title_to_every_member_once(app, sm, online_run):
    assert scheduler.run_job(app, DELIVER, DELIVERY_DAY).summary == "1 runs shipped, 8 loans"
    assert scheduler.run_job(app, DELIVER, DELIVERY_DAY).summary == "0 runs shipped, 0 loans"
    with helpers.tx(app, sm) as s:
        loans = _loans(s)
        assert len(loans) == 8 and {loan.patron_id for loan in loans} == set(online_run["patron_ids"])
        assert all(lending.is_active(loan, DELIVERY_DAY) for loan in loans)
        run = s.scalar(select(ProductionRun))
        assert run.state == "shipped" and run.shipped_by == "system:cdclub"
        assert all(r.delivered_at for r in production.recipients(s, run))


def test_nothing_is_lent_before_the_delivery_date(app, sm, online_run):
    assert scheduler.run_job(app, DELIVER, datetime(2027, 1, 14, 12, tzinfo=UTC)).summary == "0 runs shipped, 0 loans"
    with helpers.tx(app, sm) as s:
        assert _loans(s) == []


def test_a_crash_half_way_through_delivery_lends_nothing_twice(app, sm, online_run, monkeypatch):
    real, calls = catalogue.lend, []

    def crash_after_five(*args, **kwargs):
        if len(calls) == 5:
            raise RuntimeError("killed half way")
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(catalogue, "lend", crash_after_five)
    with pytest.raises(RuntimeError):
        scheduler.run_job(app, DELIVER, DELIVERY_DAY)
    with helpers.tx(app, sm) as s:
        assert len(_loans(s)) == 5 and s.scalar(select(ProductionRun.state)) == "in_production"
    monkeypatch.setattr(catalogue, "lend", real)
    scheduler.run_job(app, DELIVER, DELIVERY_DAY)
    with helpers.tx(app, sm) as s:
        assert len(_loans(s)) == 8
        assert s.scalar(select(func.count()).select_from(OnlineDelivery)) == 8
        assert s.scalar(select(ProductionRun.state)) == "shipped"


def test_a_book_already_on_loan_is_not_lent_again(app, sm, online_run):
    with helpers.tx(app, sm) as s:
        run = s.scalar(select(ProductionRun))
        patron = s.get(lending.Patron, online_run["patron_ids"][0])
        book = lending.get_book(s, run.titles[0].book_id)
        # Borrowed by the member a few days before the delivery date: still on loan then.
        lending.borrow(s, patron, book, now=datetime(2027, 1, 10, tzinfo=UTC), policy=lending.lending_policy())
    scheduler.run_job(app, DELIVER, DELIVERY_DAY)
    with helpers.tx(app, sm) as s:
        assert len(_loans(s)) == 8
        outcomes = sorted(d.outcome for d in s.scalars(select(OnlineDelivery)))
        assert outcomes.count("already_on_loan") == 1 and outcomes.count("lent") == 7


def test_the_producer_cannot_ship_an_online_run_by_hand(app, sm, online_run):
    with helpers.tx(app, sm) as s:
        run = s.scalar(select(ProductionRun))
        with pytest.raises(Exception) as refused:
            production.mark_shipped(s, run, actor="test", now=DELIVERY_DAY)
        assert refused.value.code == "online-runs-ship-themselves"
