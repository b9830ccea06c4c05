"""The nightly job per preset, computed by hand from the documents, and its idempotency."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.circulation import service
from app.circulation.models import FeeEntry, Loan, NoticeSent, PatronCirculation, Referral
from app.circulation.service_loans import accrued_fine_of
from app.notify.models import OutboxMessage
from app.scheduler import find
from tests.circulation.helpers import borrower, count_outbox, fees, item, lend, lend_due, money
from tests.circulation.jobs_helpers import nightly

pytestmark = pytest.mark.usefixtures("libraries")


def notices_of(s, loan_id):
    return [(n.step_code, n.channel) for n in s.scalars(select(NoticeSent).where(NoticeSent.loan_id == loan_id)
                                                        .order_by(NoticeSent.id))]


def test_the_job_is_on_the_schedule():
    job = find("circulation-nightly")
    assert job.own_transactions and job.trigger == {"trigger": "cron", "hour": 2, "minute": 30}


def test_outi_35_days_overdue_costs_1_50_plus_3_00_in_notice_fees(ctx, sm, now):
    with sm.begin() as s:
        by_email = borrower(s, now, "outi")
        by_letter = borrower(s, now, "outi", email="", channels=("email", "letter"), postal_address="Katu 1, Oulu")
        loan = lend_due(s, now, "outi", by_email, item(s, now, "outi"), days_overdue=35).id
        letter_loan = lend_due(s, now, "outi", by_letter, item(s, now, "outi"), days_overdue=35).id
    nightly(ctx, sm, now)
    with sm.begin() as s:
        assert fees(s, by_email) == [("notice_fee", 150), ("notice_fee", 300)]  # [000]
        assert notices_of(s, loan) == [("reminder_1", "email"), ("reminder_2", "email")]
        assert notices_of(s, letter_loan) == [("reminder_1", "letter"), ("reminder_2", "letter")]  # no email [000]
        letters = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "letter")).all()
        assert len(letters) == 2 and "Katu 1, Oulu" in letters[0].recipient
        assert "1,50" in letters[0].body or "1.50" in letters[0].body
        assert service.patron_account_summary(s, by_email, now=now).balance == money("outi", "4.50")


def test_outi_children_loans_get_notices_and_fees_too(ctx, sm, now):
    with sm.begin() as s:
        child = borrower(s, now, "outi", category="child")
        lend_due(s, now, "outi", child, item(s, now, "outi", is_childrens_material=True), days_overdue=7)
    nightly(ctx, sm, now)
    with sm.begin() as s:
        assert fees(s, child) == [("notice_fee", 150)]  # [000] also for children's loans


def test_czech_fines_8_days_4_czk_and_interlibrary_loan_80_czk(ctx, sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "czech")
        book = item(s, now, "czech")
        ill = item(s, now, "czech", material="interlibrary_loan")
        lend_due(s, now, "czech", patron, book, days_overdue=8)
        lend_due(s, now, "czech", patron, ill, days_overdue=1)
    summary = nightly(ctx, sm, now)
    assert summary.fines_accrued == 2
    with sm.begin() as s:
        accruing = service.patron_account_summary(s, patron, now=now)
        assert sorted(str(line.accruing_fine) for line in accruing.loans) == ["4.00 CZK", "80.00 CZK"]
        assert accruing.balance == money("czech", "0.00")  # nothing owed before return [003]
        assert str(service.checkin(s, item_barcode=book, branch="main", now=now, actor="t").fine_registered) == "4.00 CZK"
        assert str(service.checkin(s, item_barcode=ill, branch="main", now=now, actor="t").fine_registered) == "80.00 CZK"
        assert fees(s, patron) == [("overdue_fine", 400), ("overdue_fine", 8000)]


def test_czech_reminders_by_email_and_none_without_contact_details(ctx, sm, now):
    with sm.begin() as s:
        reachable = borrower(s, now, "czech", channels=("email", "sms"), phone="+420777000111")
        unreachable = borrower(s, now, "czech", email="", channels=())
        loan = lend_due(s, now, "czech", reachable, item(s, now, "czech"), days_overdue=20).id
        silent = lend_due(s, now, "czech", unreachable, item(s, now, "czech"), days_overdue=20).id
    nightly(ctx, sm, now)
    with sm.begin() as s:
        assert notices_of(s, loan) == [("reminder_1", "email"), ("reminder_2", "email")]  # [004]
        assert notices_of(s, silent) == [("reminder_1", "none"), ("reminder_2", "none")]  # recorded, not sent
        assert count_outbox(s) == 2
        assert s.get(Loan, silent).next_notice_on == (now + timedelta(days=25)).date()  # the 45-day step


def test_lumme_childrens_book_20_days_late_pays_notice_fees_only(ctx, sm, now):
    with sm.begin() as s:
        parent = borrower(s, now, "lumme", channels=("email", "letter"), postal_address="Kirjastokatu 1, Mikkeli")
        child = borrower(s, now, "lumme", category="child", guardian_id=parent, channels=("email", "letter"),
                         postal_address="Kirjastokatu 1, Mikkeli")
        book = item(s, now, "lumme", is_childrens_material=True)
        lend_due(s, now, "lumme", child, book, days_overdue=20)
    nightly(ctx, sm, now)
    with sm.begin() as s:
        result = service.checkin(s, item_barcode=book, branch="mikkeli", now=now, actor="t")
        assert str(result.fine_registered) == "0.00 EUR"  # no daily fine for children's material [001]
        assert fees(s, child) == [("notice_fee", 200)]  # the 14-day letter (2.00 CHOSEN)


def test_lumme_invoice_then_collection_bars_borrowing_until_settled(ctx, sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "lumme", channels=("email", "letter"), postal_address="Kuja 2, Mikkeli")
        barcode = item(s, now, "lumme", price="30.00")
        loan = lend_due(s, now, "lumme", patron, barcode, days_overdue=84).id
    summary = nightly(ctx, sm, now)
    assert summary.bans_started == 1
    with sm.begin() as s:
        assert [r.kind for r in s.scalars(select(Referral).where(Referral.loan_id == loan).order_by(Referral.id))] == ["invoice", "collection"]
        assert [k for k, _a in fees(s, patron)] == ["notice_fee", "invoice_fee"]
        assert s.get(PatronCirculation, patron).in_collection and service.is_under_billing_ban(s, patron, now)
        service.checkin(s, item_barcode=barcode, branch="mikkeli", now=now, actor="t")
        owed = service.patron_account_summary(s, patron, now=now).balance
        assert owed == money("lumme", "13.00")  # 2.00 letter + 5.00 invoice + 6.00 capped fine
        service.pay_at_desk(s, patron_id=patron, amount=owed, now=now, actor="staff")
        assert not service.is_under_billing_ban(s, patron, now)
        assert not s.get(PatronCirculation, patron).billing_banned


def test_advance_notice_and_last_day_reminder(ctx, sm, now):
    with sm.begin() as s:
        lumme = borrower(s, now, "lumme")
        service.set_notice_preferences(s, lumme, now=now, actor="p", advance_notice_days=3)
        lumme_loan = lend(s, now - timedelta(days=25), "lumme", lumme, item(s, now, "lumme")).id  # due in 3 days
        czech = borrower(s, now, "czech")
        czech_loan = lend(s, now - timedelta(days=28), "czech", czech, item(s, now, "czech")).id  # due today
        opted_out = borrower(s, now, "czech")
        service.set_notice_preferences(s, opted_out, now=now, actor="p", opted_out=True)
        quiet = lend(s, now - timedelta(days=28), "czech", opted_out, item(s, now, "czech")).id
    nightly(ctx, sm, now)
    with sm.begin() as s:
        assert notices_of(s, lumme_loan) == [("advance_notice", "email")]  # [001] 1–7 days, patron's choice
        assert notices_of(s, czech_loan) == [("last_day_reminder", "email")]  # [004]
        assert notices_of(s, quiet) == []  # opted out [004]
        assert fees(s, lumme) == fees(s, czech) == []


def test_notice_fees_push_over_the_threshold_and_payment_lifts_the_ban(ctx, sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "outi")
        for _ in range(3):
            lend_due(s, now, "outi", patron, item(s, now, "outi"), days_overdue=35)
    assert nightly(ctx, sm, now).bans_started == 1
    with sm.begin() as s:
        assert s.get(PatronCirculation, patron).billing_banned  # 13.50 > 10.00
        service.pay_at_desk(s, patron_id=patron, amount=money("outi", "3.50"), now=now, actor="staff")
        assert not s.get(PatronCirculation, patron).billing_banned  # 10.00 is not over 10.00


def _scenario(s, now, size):
    rng = random.Random(7)
    loans = []
    for number in range(size):
        library = ["lumme", "outi", "tampere", "czech"][number % 4]
        patron = borrower(s, now, library, channels=("email", "letter"), postal_address="Katu 1")
        loans.append(lend_due(s, now, library, patron, item(s, now, library), days_overdue=rng.randint(1, 90)).id)
    return loans


def _totals(s):
    return (s.scalar(select(func.count()).select_from(FeeEntry)), s.scalar(select(func.sum(FeeEntry.amount_minor))),
            s.scalar(select(func.count()).select_from(NoticeSent)), count_outbox(s))


def test_running_twice_the_same_day_charges_and_sends_nothing_twice(ctx, sm, now):
    with sm.begin() as s:
        _scenario(s, now, 12)
    first = nightly(ctx, sm, now, batch_size=5)
    with sm.begin() as s:
        after_first = _totals(s)
    second = nightly(ctx, sm, now + timedelta(hours=2), batch_size=5)
    with sm.begin() as s:
        assert _totals(s) == after_first
    assert first.messages_queued > 0 and second.messages_queued == 0 and second.bans_started == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_a_crash_half_way_then_a_rerun_charges_and_sends_exactly_once(ctx, sm, now, workers):
    """With two workers the batch running beside the one that crashed still commits, whole."""
    with sm.begin() as s:
        _scenario(s, now, 12)

    def crash(batch_number):
        if batch_number == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        nightly(ctx, sm, now, batch_size=2, after_batch=crash, workers=workers)
    with sm.begin() as s:
        half = _totals(s)
    nightly(ctx, sm, now, batch_size=2, workers=workers)
    with sm.begin() as s:
        after_rerun = _totals(s)
        per_loan = s.execute(select(FeeEntry.dedup_key, func.count()).group_by(FeeEntry.dedup_key)
                             .having(func.count() > 1)).all()
    assert half[2] < after_rerun[2] and per_loan == []
    # the same as one clean run: wipe the results and run again
    with sm.begin() as s:
        for table in (FeeEntry, NoticeSent, Referral, OutboxMessage):
            s.execute(table.__table__.delete())
        s.execute(Loan.__table__.update().values(next_notice_on=(now - timedelta(days=100)).date()))
        s.execute(PatronCirculation.__table__.update().values(in_collection=False, billing_banned=False))
    nightly(ctx, sm, now, batch_size=100)
    with sm.begin() as s:
        assert _totals(s) == after_rerun


def test_set_based_accrual_matches_the_pure_fine_rules(ctx, sm, now):
    with sm.begin() as s:
        loans = []
        for library, material, childrens in (("lumme", "book", False), ("lumme", "book", True), ("czech", "book", False),
                                             ("czech", "interlibrary_loan", False), ("tampere", "book", False),
                                             ("outi", "book", False)):
            for days in (1, 6, 7, 8, 29, 30, 31, 60):
                patron = borrower(s, now, library)
                loans.append(lend_due(s, now, library, patron, item(s, now, library, material=material,
                                                                     is_childrens_material=childrens),
                                      days_overdue=days).id)
    nightly(ctx, sm, now)
    with sm.begin() as s:
        for loan_id in loans:
            loan = s.get(Loan, loan_id)
            assert loan.accrued_fine_minor == accrued_fine_of(s, loan, now).minor, loan_id
