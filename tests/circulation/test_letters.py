"""Letters by rule: the nightly job `circulation-nightly`, run as the scheduler runs it, posts every
step the presets send by letter whatever the patron's chosen channels, and lists for staff the
letters it has no address for — nothing is silently skipped [000,001,004]."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Patron
from app.circulation import service
from app.circulation.models import FeeEntry, NoticeSent, PatronCirculation, Referral
from app.notify.models import OutboxMessage
from app.scheduler import run_job
from tests import factories
from tests.circulation.helpers import borrower, fees, item, lend_due, money

pytestmark = pytest.mark.usefixtures("libraries")


def nightly_job(app, at):
    """The job as the scheduler runs it: by name, under its lock, with the given clock."""
    run = run_job(app, "circulation-nightly", at)
    assert run.status == "ok", run.summary
    return run


def notices_of(s, loan_id):
    return [(n.step_code, n.channel) for n in s.scalars(select(NoticeSent).where(NoticeSent.loan_id == loan_id)
                                                        .order_by(NoticeSent.id))]


def letters_to(s, patron_id):
    """Letters in the print queue about this patron's loans."""
    name = s.get(Patron, patron_id).name
    return [m for m in s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "letter")
                                 .order_by(OutboxMessage.id)) if m.recipient.startswith(name)]


def totals(s):
    return (s.scalar(select(func.count()).select_from(FeeEntry)), s.scalar(select(func.sum(FeeEntry.amount_minor))),
            s.scalar(select(func.count()).select_from(NoticeSent)),
            s.scalar(select(func.count()).select_from(OutboxMessage)),
            s.scalar(select(func.count()).select_from(Referral)))


def run_twice(app, sm, now):
    """Run the job, then again two hours later: the second run adds nothing."""
    nightly_job(app, now)
    with sm.begin() as s:
        first = totals(s)
    nightly_job(app, now + timedelta(hours=2))
    with sm.begin() as s:
        assert totals(s) == first


def test_lumme_letter_invoice_and_collection_reach_an_email_only_patron(ctx, sm, now, client):
    with sm.begin() as s:
        patron = borrower(s, now, "lumme", channels=("email",), postal_address="Kuja 2, 50100 Mikkeli")
        s.get(Patron, patron).name = "Aino Lukija"
        loan = lend_due(s, now, "lumme", patron, item(s, now, "lumme", price="30.00"), days_overdue=84).id
        factories.staff(s, now, "librarian")
    run_twice(ctx, sm, now)
    with sm.begin() as s:
        assert notices_of(s, loan) == [("reminder_1", "email"), ("reminder_2", "letter"), ("invoice", "letter"),
                                       ("collection_referral", "letter")]  # [001] 7 d email, 14 d letter, ≥ 56 d
        assert fees(s, patron) == [("notice_fee", 200), ("invoice_fee", 500)]
        kinds = s.scalars(select(Referral.kind).where(Referral.loan_id == loan).order_by(Referral.id)).all()
        assert kinds == ["invoice", "collection"]  # the patron is invoiced, then referred to collection
        assert s.get(PatronCirculation, patron).in_collection and service.is_under_billing_ban(s, patron, now)
        letters = letters_to(s, patron)
        assert len(letters) == 3 and all("Kuja 2, 50100 Mikkeli" in m.recipient for m in letters)
    factories.login_staff(client)
    page = client.get("/staff/letters").text
    assert page.count("Kuja 2, 50100 Mikkeli") == 3  # in the queue staff print from


def test_czech_pre_legal_registered_letter_reaches_an_email_only_reader(ctx, sm, now):
    with sm.begin() as s:
        reader = borrower(s, now, "czech", channels=("email",), postal_address="Dlouhá 1, 110 00 Praha")
        loan = lend_due(s, now, "czech", reader, item(s, now, "czech"), days_overdue=60).id
    run_twice(ctx, sm, now)
    with sm.begin() as s:
        assert notices_of(s, loan) == [("reminder_1", "email"), ("reminder_2", "email"), ("reminder_3", "email"),
                                       ("reminder_4_pre_legal", "registered_letter")]  # [004]
        assert fees(s, reader, "notice_fee") == [("notice_fee", 10000)]  # "Odeslání 4. upomínky - 100 Kč"
        [letter] = letters_to(s, reader)
        assert "Dlouhá 1, 110 00 Praha" in letter.recipient and letter.context["registered"] is True
        assert "registered letter" in letter.body


def test_outi_patron_without_email_on_default_channels_gets_letters(ctx, sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "outi", email="", postal_address="Katu 1, 90100 Oulu")  # channels: ("email",)
        loan = lend_due(s, now, "outi", patron, item(s, now, "outi"), days_overdue=35).id
    run_twice(ctx, sm, now)
    with sm.begin() as s:
        assert notices_of(s, loan) == [("reminder_1", "letter"), ("reminder_2", "letter")]  # [000] no email: post
        assert fees(s, patron) == [("notice_fee", 150), ("notice_fee", 300)]
        assert [("Katu 1, 90100 Oulu" in m.recipient) for m in letters_to(s, patron)] == [True, True]
        assert service.patron_account_summary(s, patron, now=now).balance == money("outi", "4.50")


def test_a_patron_we_have_no_address_for_is_listed_for_staff(ctx, sm, now, client):
    with sm.begin() as s:
        outi = borrower(s, now, "outi", email="")  # no email, no address, default channels
        s.get(Patron, outi).name = "Outi Osoitteeton"
        czech = borrower(s, now, "czech", email="", channels=())  # no email, phone or address
        s.get(Patron, czech).name = "Karel Bezadresy"
        outi_loan = lend_due(s, now, "outi", outi, item(s, now, "outi"), days_overdue=7).id
        czech_loan = lend_due(s, now, "czech", czech, item(s, now, "czech"), days_overdue=60).id
        cards = {outi: s.get(Patron, outi).card_number, czech: s.get(Patron, czech).card_number}
        factories.staff(s, now, "librarian")
    run_twice(ctx, sm, now)
    with sm.begin() as s:
        assert notices_of(s, outi_loan) == [("reminder_1", "letter")]
        # [004] reminders 1–3 are email (or SMS) only, and a reader without either watches their own
        # dates: they are recorded as unsent; the pre-legal letter goes to the queue all the same.
        assert dict(notices_of(s, czech_loan)) == {"reminder_1": "none", "reminder_2": "none", "reminder_3": "none",
                                                   "reminder_4_pre_legal": "registered_letter"}
        for patron in (outi, czech):
            [letter] = letters_to(s, patron)
            assert letter.context["address_missing"] is True and cards[patron] in letter.recipient
        assert fees(s, outi) == [("notice_fee", 150)] and fees(s, czech) == [("notice_fee", 10000)]
    factories.login_staff(client)
    page = client.get("/staff/letters").text
    for name, patron in (("Outi Osoitteeton", outi), ("Karel Bezadresy", czech)):
        assert name in page and f"NO POSTAL ADDRESS ON FILE (card {cards[patron]})" in page


def test_lumme_childrens_book_is_invoiced_without_the_invoicing_fee(ctx, sm, now):
    with sm.begin() as s:
        parent = borrower(s, now, "lumme", channels=("email", "letter"), postal_address="Kirjastokatu 1, Mikkeli")
        child = borrower(s, now, "lumme", category="child", guardian_id=parent, channels=("email", "letter"),
                         postal_address="Kirjastokatu 1, Mikkeli")
        book = lend_due(s, now, "lumme", child, item(s, now, "lumme", price="15.00", is_childrens_material=True),
                        days_overdue=56).id
        adult_book = lend_due(s, now, "lumme", child, item(s, now, "lumme", price="25.00"), days_overdue=56).id
    run_twice(ctx, sm, now)
    with sm.begin() as s:
        assert notices_of(s, book) == [("reminder_1", "email"), ("reminder_2", "letter"), ("invoice", "letter")]
        by_loan = s.execute(select(FeeEntry.loan_id, FeeEntry.kind, FeeEntry.amount_minor)
                            .where(FeeEntry.patron_id == child).order_by(FeeEntry.id)).all()
        # [001] "Lasten- ja nuorten aineistoista peritään ainoastaan huomautuskirjeen maksu"
        assert [(k, a) for loan, k, a in by_loan if loan == book] == [("notice_fee", 200)]
        assert [(k, a) for loan, k, a in by_loan if loan == adult_book] == [("notice_fee", 200), ("invoice_fee", 500)]
        invoice = s.scalar(select(Referral).where(Referral.loan_id == book))
        assert (invoice.kind, invoice.amount_minor) == ("invoice", 1500)  # still invoiced: the book itself
        guardian_name = s.get(Patron, parent).name
        letters = s.scalars(select(OutboxMessage).where(OutboxMessage.context["step"].as_string() == "invoice")).all()
        assert {m.recipient.split("\n")[0] for m in letters} == {guardian_name}  # to the guardian [001]


def test_a_guardian_who_does_not_borrow_gets_the_letter_at_the_childs_address(ctx, sm, now):
    with sm.begin() as s:
        guardian = factories.patron(s, now, email="guardian@test.kuulo")  # no circulation data, no address
        guardian.name = "Jana Rodičová"
        child = borrower(s, now, "czech", category="child", guardian_id=guardian.id, channels=("email",),
                         postal_address="Krátká 3, 602 00 Brno")
        loan = lend_due(s, now, "czech", child, item(s, now, "czech"), days_overdue=60).id
    run_twice(ctx, sm, now)
    with sm.begin() as s:
        assert notices_of(s, loan)[-1] == ("reminder_4_pre_legal", "registered_letter")
        [letter] = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "letter")).all()
        assert letter.recipient == "Jana Rodičová\nKrátká 3, 602 00 Brno"  # [004] "resp. zákonného zástupce"
        assert fees(s, child, "notice_fee") == [("notice_fee", 10000)]
