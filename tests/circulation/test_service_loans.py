"""Loans through the service with a fixed clock: due times, refusals, renewals, returns, lost items.

The fixed clock is Monday 2026-11-23 10:00 UTC (12:00 in Helsinki, 11:00 in Prague).
"""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from app.circulation import service
from app.circulation.models import Item, Loan, PatronCirculation
from app.circulation.service_common import add_fee
from tests.circulation.conftest import is_postgres
from tests.circulation.helpers import borrower, fees, item, lend, money

HELSINKI = ZoneInfo("Europe/Helsinki")
pytestmark = pytest.mark.usefixtures("libraries")


def test_desk_loan_is_due_at_closing_time_and_web_loan_at_midnight(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        desk = lend(s, now, "lumme", patron, item(s, now, "lumme"))
        web = lend(s, now, "lumme", patron, item(s, now, "lumme"), channel="web")
        dvd = lend(s, now, "lumme", patron, item(s, now, "lumme", material="dvd"))
        assert desk.due_at.astimezone(HELSINKI) == datetime(2026, 12, 21, 19, 0, tzinfo=HELSINKI)  # 28 days [001]
        assert web.due_at.astimezone(HELSINKI) == datetime(2026, 12, 21, 23, 59, 59, tzinfo=HELSINKI)
        assert dvd.due_at.astimezone(HELSINKI).date() == date(2026, 12, 7)  # 14 days (CHOSEN)


def test_a_due_date_on_a_closed_day_moves_to_the_next_open_day(sm, now):
    sunday = datetime(2026, 11, 8, 12, 0, tzinfo=UTC)  # + 28 days = Sunday 6.12., closed twice over
    with sm.begin() as s:
        loan = lend(s, sunday, "lumme", borrower(s, now, "lumme"), item(s, now, "lumme"))
        assert loan.due_at.astimezone(HELSINKI) == datetime(2026, 12, 7, 19, 0, tzinfo=HELSINKI)


def test_tampere_ban_boundary_10_00_may_borrow_10_01_may_not(sm, now):
    with sm.begin() as s:
        at_limit, over = borrower(s, now, "tampere"), borrower(s, now, "tampere")
        for patron, amount in ((at_limit, "10.00"), (over, "10.01")):
            add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="overdue_fine",
                    amount=money("tampere", amount), reason="test", now=now, actor="test", dedup_key=None)
        assert service.checkout(s, patron_id=at_limit, item_barcode=item(s, now, "tampere"), branch="linna", now=now,
                                actor="test").decision.allowed
        refused = service.checkout(s, patron_id=over, item_barcode=item(s, now, "tampere"), branch="linna", now=now,
                                   actor="test").decision
        assert refused.reason == "billing_ban" and str(refused.details["balance"]) == "10.01 EUR"
        assert service.is_under_billing_ban(s, over, now) and not service.is_under_billing_ban(s, at_limit, now)


def test_checkout_refusals_come_with_reason_codes(sm, now):
    with sm.begin() as s:
        teen = borrower(s, now, "lumme", birth_date=date(2012, 5, 1))
        film = item(s, now, "lumme", material="dvd", age_rating=16)
        assert service.checkout(s, patron_id=teen, item_barcode=film, branch="mikkeli", now=now,
                                actor="t").decision.reason == "age_rating"
        expired = borrower(s, now, "lumme")
        s.get(PatronCirculation, expired).card_expires_on = date(2026, 11, 22)
        assert service.checkout(s, patron_id=expired, item_barcode=film, branch="mikkeli", now=now,
                                actor="t").decision.reason == "card_expired"
        old = borrower(s, now, "lumme")
        s.get(PatronCirculation, old).membership_validated_at = now - timedelta(days=3653)
        assert service.checkout(s, patron_id=old, item_barcode=film, branch="mikkeli", now=now,
                                actor="t").decision.reason == "membership_revalidation_due"
        other = item(s, now, "outi")
        assert service.checkout(s, patron_id=old, item_barcode=other, branch="mikkeli", now=now,
                                actor="t").decision.reason == "other_library"


def test_lumme_limit_of_20_dvds(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        for _ in range(20):
            lend(s, now, "lumme", patron, item(s, now, "lumme", material="dvd"))
        refused = service.checkout(s, patron_id=patron, item_barcode=item(s, now, "lumme", material="bluray"),
                                   branch="mikkeli", now=now, actor="t").decision
        assert (refused.reason, refused.details["limit"]) == ("limit_group", 20)
        assert service.checkout(s, patron_id=patron, item_barcode=item(s, now, "lumme"), branch="mikkeli", now=now,
                                actor="t").decision.allowed


def test_an_item_on_loan_cannot_be_lent_again(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "lumme")
        lend(s, now, "lumme", borrower(s, now, "lumme"), barcode)
        assert service.checkout(s, patron_id=borrower(s, now, "lumme"), item_barcode=barcode, branch="mikkeli",
                                now=now, actor="t").decision.reason == "item_not_available"


def test_the_ninth_renewal_is_refused(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        loan = lend(s, now, "lumme", patron, item(s, now, "lumme"))
        for day in range(1, 9):
            result = service.renew_loan(s, loan.id, now=now + timedelta(days=7 * day), actor="p")
            assert result.decision.allowed, (day, result.decision)
            assert result.decision.details["renewals_left"] == 8 - day
        ninth = service.renew_loan(s, loan.id, now=now + timedelta(days=63), actor="p")
        assert (ninth.decision.reason, ninth.decision.details["max_renewals"]) == ("max_renewals", 8)
        assert s.get(Loan, loan.id).renewals == 8


def test_renewal_is_refused_when_someone_has_a_hold(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "tampere")
        loan = lend(s, now, "tampere", borrower(s, now, "tampere"), barcode)
        assert service.place_hold(s, patron_id=borrower(s, now, "tampere"), item_barcode=barcode, now=now,
                                  actor="t").decision.allowed
        result = service.renew_loan(s, loan.id, now=now + timedelta(days=3), actor="p")
        assert result.decision.reason == "reserved" and result.due_at == s.get(Loan, loan.id).due_at


def test_renew_many_answers_per_item_and_registers_accrued_fines(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        late = lend(s, now - timedelta(days=31), "tampere", patron, item(s, now, "tampere"))  # due 3 days ago
        short = lend(s, now, "tampere", patron, item(s, now, "tampere", material="short_loan"))  # no renewals
        results = {r.loan_id: r for r in service.renew_loans(s, patron_id=patron, loan_ids=None, now=now, actor="p")}
        assert results[late.id].decision.allowed
        assert str(results[late.id].fine_registered) == "0.60 EUR"  # 3 days × 0.20 registers at renewal [003]
        assert results[short.id].decision.reason == "max_renewals"
        assert fees(s, patron) == [("overdue_fine", 60)]


def test_billing_ban_suspends_renewals(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        loan = lend(s, now, "tampere", patron, item(s, now, "tampere"))
        add_fee(s, patron_id=patron, library_id=loan.library_id, kind="overdue_fine",
                amount=money("tampere", "12.00"), reason="t", now=now, actor="t", dedup_key=None)
        result = service.renew_loan(s, loan.id, now=now + timedelta(days=2), actor="p")
        assert result.decision.reason == "borrowing_suspended"


def test_sunday_book_drop_is_recorded_on_monday_and_fined_until_then(sm, now):
    saturday_close = datetime(2026, 11, 21, 15, 0, tzinfo=HELSINKI)
    sunday_noon = datetime(2026, 11, 22, 12, 0, tzinfo=HELSINKI)
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        barcode = item(s, now, "lumme")
        loan = lend(s, now - timedelta(days=30), "lumme", patron, barcode)
        loan.due_at, loan.due_day = saturday_close, saturday_close.date().toordinal()
        s.flush()
        result = service.checkin(s, item_barcode=barcode, branch="savonlinna", book_drop=True, now=sunday_noon,
                                 actor="t")
        assert result.returned_on == date(2026, 11, 23)  # Monday, the next opening day [001]
        returned = s.get(Loan, loan.id)
        assert returned.returned_at == datetime(2026, 11, 23, 10, 0, tzinfo=HELSINKI)
        assert str(result.fine_registered) == "0.40 EUR"  # Sunday and Monday
        assert result.routing.action == "shelf" and result.routing.branch_code == "savonlinna"  # anywhere [001]
        assert s.get(Item, returned.item_id).status == "available"


def test_return_at_another_librarys_branch_is_refused(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "lumme")
        lend(s, now, "lumme", borrower(s, now, "lumme"), barcode)
        assert service.checkin(s, item_barcode=barcode, branch="outi/oulu_main", now=now,
                               actor="t").decision.reason == "other_library"


def test_lost_item_is_charged_and_refunded_when_it_turns_up(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        barcode = item(s, now, "lumme", price="30.00")
        loan = lend(s, now - timedelta(days=33), "lumme", patron, barcode)  # 5 days overdue
        assert str(service.declare_lost(s, loan.id, now=now, actor="staff")) == "30.00 EUR"
        assert fees(s, patron) == [("overdue_fine", 100), ("lost_item_replacement", 3000)]
        assert service.checkin(s, item_barcode=barcode, branch="mikkeli", now=now + timedelta(days=2),
                               actor="t").loan_id == loan.id
        assert fees(s, patron)[-1] == ("lost_item_returned", -3000)  # the fines stay [001]
        assert service.patron_account_summary(s, patron, now=now).balance == money("lumme", "1.00")


def test_damaged_item_charges_the_last_borrower(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "czech")
        barcode = item(s, now, "czech", price="300.00")
        lend(s, now, "czech", patron, barcode)
        service.checkin(s, item_barcode=barcode, branch="main", now=now, actor="t")
        assert str(service.charge_damaged(s, item_barcode=barcode, now=now, actor="staff")) == "300.00 CZK"
        assert fees(s, patron) == [("damaged_item", 30000)]


@pytest.mark.postgres
def test_concurrent_checkouts_of_one_item_make_one_loan(sm, now, database_url):
    if not is_postgres(database_url):
        pytest.skip("needs PostgreSQL (KUULO_TEST_DATABASE_URL)")
    with sm.begin() as s:
        barcode = item(s, now, "lumme")
        patrons = [borrower(s, now, "lumme") for _ in range(4)]
    barrier, answers = threading.Barrier(len(patrons)), []

    def desk(patron_id: int) -> None:
        with sm() as s:
            barrier.wait()
            result = service.checkout(s, patron_id=patron_id, item_barcode=barcode, branch="mikkeli", now=now,
                                      actor="t")
            s.commit()
            answers.append(result.decision.reason)

    threads = [threading.Thread(target=desk, args=(p,)) for p in patrons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers, key=str) == [None] + ["item_not_available"] * 3
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(Loan)) == 1


def test_a_blocked_card_or_a_closed_account_borrows_nowhere_not_only_at_the_desk(sm, now):
    """The desk's block and closing stop the API's and the self-service machines' checkouts too (the core)."""
    from app.accounts.models import Patron
    from app.circulation.models import Ban

    with sm.begin() as s:
        patron, barcode = borrower(s, now, "lumme"), item(s, now, "lumme")
        s.add(Ban(patron_id=patron, kind="block", started_at=now, reason="Card reported stolen"))
    for change, reason in ((None, "card_blocked"), ("lift", "account_closed"), ("reopen", None)):
        with sm.begin() as s:
            if change == "lift":
                s.execute(update(Ban).where(Ban.patron_id == patron).values(lifted_at=now))
                s.get(Patron, patron).active = False
            elif change == "reopen":
                s.get(Patron, patron).active = True
            result = service.checkout(s, patron_id=patron, item_barcode=barcode, branch="mikkeli", now=now,
                                      actor="test")
            assert result.decision.reason == reason and (result.loan is None) == (reason is not None)
