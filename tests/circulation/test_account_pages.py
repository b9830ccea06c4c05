"""The patron's circulation pages (My account): loans and renewal with a result per item, holds (pickup
branch, cancel, a ready hold only at the library), fines and online payment through a fake Paytrail with
one receipt, profile and notices, cards, acting for a child, the me API with the browser session, Czech."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts.models import Patron
from app.audit import AuditEvent
from app.circulation import service
from app.circulation.models import Hold, PatronCirculation
from app.circulation.service_common import add_fee
from app.notify.models import OutboxMessage
from tests import factories
from tests.circulation import fake_paytrail, helpers
from tests.circulation.helpers import borrower, item, lend, lend_due, money


@pytest.fixture(autouse=True)
def libraries(app: Any, sm: Any, now: Any) -> None:
    """The four presets' libraries. No app context stays pushed: each request then has its own (and its own
    database session, closed at its end), as in production."""
    with app.app_context(), sm.begin() as s:
        helpers.build_libraries(s, now)


@contextmanager
def tx(app: Any, sm: Any) -> Iterator[Any]:
    """A transaction of the test's own, in an app context of its own (services render messages)."""
    with app.app_context(), sm.begin() as s:
        yield s


def card_of(sm: Any, patron_id: int) -> str:
    with sm.begin() as s:
        return s.get(Patron, patron_id).card_number


def login(client: Any, sm: Any, patron_id: int) -> None:
    assert factories.login_patron(client, card_of(sm, patron_id)).status_code == 302


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_loans_sorted_with_due_states_and_renew_all_answers_per_item(app, client, sm, now):
    with tx(app, sm) as s:
        me, other = borrower(s, now, "lumme"), borrower(s, now, "lumme")
        free, reserved, late = item(s, now, "lumme"), item(s, now, "lumme"), item(s, now, "lumme")
        lend(s, now - timedelta(days=10), "lumme", me, free)
        lend(s, now - timedelta(days=10), "lumme", me, reserved)
        lend_due(s, now, "lumme", me, late, days_overdue=5)
        assert service.place_hold(s, patron_id=other, item_barcode=reserved, now=now, actor="t").hold is not None
    login(client, sm, me)
    page = client.get("/account/loans").text
    assert page.index(f"Title {late}") < page.index(f"Title {free}")  # the earliest due first
    assert "Overdue" in page and "0 of " in page
    assert "Fine so far" in page and "€" in page  # the accruing fine of the late loan
    done = client.post("/account/loans/renew", data={"renew_all": "1"})
    assert done.status_code == 200 and 'role="status"' in done.text
    results = done.text.split("Renewal results")[1].split("</section>")[0]
    assert re.search(rf"Title {free}</strong>: renewed, now due on", results)
    assert re.search(rf"Title {reserved}</strong>: not renewed. The item is reserved for another patron.", results)
    assert "1 of " in done.text  # the renewal count went up


def test_renew_selected_needs_a_choice_and_only_own_loans(app, client, sm, now):
    with tx(app, sm) as s:
        me, other = borrower(s, now, "lumme"), borrower(s, now, "lumme")
        mine, theirs = item(s, now, "lumme"), item(s, now, "lumme")
        lend(s, now - timedelta(days=10), "lumme", me, mine)
        their_loan = lend(s, now - timedelta(days=10), "lumme", other, theirs).id
    login(client, sm, me)
    empty = client.post("/account/loans/renew", data={"renew_selected": "1"})
    assert empty.status_code == 400 and "Choose at least one loan" in empty.text
    assert client.post("/account/loans/renew", data={"loan_id": str(their_loan)}).status_code == 400
    assert client.post("/account/loans/renew", data={"loan_id": "x\x00"}).status_code == 400
    with tx(app, sm) as s:
        assert service.patron_account_summary(s, other, now=now).loans[0].renewals == 0


def test_holds_change_pickup_cancel_and_a_ready_hold_only_at_the_library(app, client, sm, now):
    with tx(app, sm) as s:
        me, lender = borrower(s, now, "lumme"), borrower(s, now, "lumme")
        waiting_item, ready_item = item(s, now, "lumme"), item(s, now, "lumme")
        lend(s, now - timedelta(days=3), "lumme", lender, waiting_item)
        lend(s, now - timedelta(days=3), "lumme", lender, ready_item)
        waiting = service.place_hold(s, patron_id=me, item_barcode=waiting_item, now=now, actor="t").hold.id
        ready = service.place_hold(s, patron_id=me, item_barcode=ready_item, now=now, actor="t").hold.id
        service.checkin(s, item_barcode=ready_item, branch="mikkeli", book_drop=False, now=now, actor="t")
        assert s.get(Hold, ready).state == "ready"
    login(client, sm, me)
    page = client.get("/account/holds").text
    assert "Waiting for a copy" in page and "Ready for pickup" in page
    assert "cannot be cancelled online: contact the library" in page
    moved = client.post(f"/account/holds/{waiting}/pickup", data={"branch": "savonlinna"}, follow_redirects=True)
    assert "The pickup branch was changed." in moved.text
    assert client.post(f"/account/holds/{waiting}/pickup", data={"branch": "nowhere"}).status_code == 302
    with tx(app, sm) as s:
        assert service.patron_account_summary(s, me, now=now).holds[0].pickup_branch == "savonlinna"
    done = client.post("/account/holds/cancel", data={"hold_id": [str(waiting), str(ready)]})
    assert done.status_code == 200
    results = done.text.split("Cancellation results")[1].split("</section>")[0]
    assert re.search(rf"Title {waiting_item}</strong>: cancelled.", results)
    assert re.search(rf"Title {ready_item}</strong>: not cancelled. This hold is waiting for you", results)
    with tx(app, sm) as s:
        assert s.get(Hold, waiting).state == "cancelled" and s.get(Hold, ready).state == "ready"
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "circulation.hold_pickup_changed")) == 1


def _fee(app: Any, sm: Any, now: Any, patron: int, amount: str, kind: str = "notice_fee") -> None:
    with tx(app, sm) as s:
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind=kind,
                amount=money("tampere", amount), reason="t", now=now, actor="t", dedup_key=None)


def test_fines_explain_refusals_before_the_button(app, client, sm, now):
    with tx(app, sm) as s:
        small = borrower(s, now, "tampere")
    _fee(app, sm, now, small, "2.99")
    login(client, sm, small)
    page = client.get("/account/fines").text
    assert "Reminder fee" in page and "The amount is below the minimum for online payment." in page
    assert "The minimum is €3.00." in page and "Pay €" not in page
    _fee(app, sm, now, small, "20.00", kind="lost_item_replacement")
    page = client.get("/account/fines").text
    assert "Fees cannot be paid online while a replacement fee is outstanding." in page
    assert client.post("/account/fines/pay", follow_redirects=True).text.count("replacement fee is outstanding") >= 1


def test_pay_online_books_once_and_sends_one_receipt(app, client, sm, now, monkeypatch):
    from app.circulation import account_views

    fake = fake_paytrail.FakePaytrail()
    monkeypatch.setattr(account_views, "provider_from_config", lambda config: fake_paytrail.provider(fake))
    from app.circulation import api

    monkeypatch.setattr(api, "provider_from_config", lambda config: fake_paytrail.provider(fake))
    with tx(app, sm) as s:
        patron = borrower(s, now, "tampere")
    _fee(app, sm, now, patron, "4.00")
    login(client, sm, patron)
    assert "Pay €4.00 online" in client.get("/account/fines").text
    started = client.post("/account/fines/pay")
    assert started.status_code == 303 and started.headers["Location"].startswith("https://pay.example/pay/")
    transaction = started.headers["Location"].rsplit("/", 1)[1]
    assert fake.payments[transaction]["redirectUrls"]["success"] == "http://kuulo.test/account/fines/paid"
    params = fake.result(transaction)
    assert client.get("/account/fines/paid", query_string={**params, "signature": "0" * 64}).status_code == 400
    back = client.get("/account/fines/paid", query_string=params)
    assert back.status_code == 200 and "your payment of €4.00 has been received" in back.text
    for _ in range(2):  # the provider's callback, twice
        assert client.get("/api/v1/circulation/payments/paytrail/callback", query_string=params).json == {
            "outcome": "already_booked"}
    page = client.get("/account/fines").text
    assert "You owe nothing." in page and "paid" in page
    with tx(app, sm) as s:
        receipts = s.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith("circ:payment-receipt:"))).all()
        assert len(receipts) == 1 and "€4.00" in receipts[0].body


def test_profile_contact_and_notice_settings(app, client, sm, now):
    with tx(app, sm) as s:
        patron = borrower(s, now, "lumme")
    login(client, sm, patron)
    page = client.get("/account/profile").text
    assert "made at the library desk" in page and "Test Patron" in page
    saved = client.post("/account/profile/contact", data={"email": "new@test.kuulo", "phone": "+358 40 123 4567"},
                        follow_redirects=True)
    assert "Your contact details are saved." in saved.text
    assert client.post("/account/profile/contact", data={"email": "not an address"}).status_code == 400
    assert client.post("/account/profile/notices", data={"by_email": "y", "advance_notice_days": "9"}).status_code == 400
    assert client.post("/account/profile/notices", data={"by_email": "y", "hold_nickname": "a\x00b"}).status_code == 400
    saved = client.post("/account/profile/notices", data={"by_email": "y", "by_sms": "y", "advance_notice_days": "2",
                                                          "receipts_by_email": "y", "hold_nickname": "Kettu"},
                        follow_redirects=True)
    assert "Your notice settings are saved." in saved.text
    with tx(app, sm) as s:
        circ = s.get(PatronCirculation, patron)
        assert circ.notice_channels == ["email", "sms"] and circ.advance_notice_days == 2
        assert circ.receipts_by_email and circ.hold_nickname == "Kettu"
        assert s.get(Patron, patron).phone == "+358 40 123 4567"
    cards = client.get("/account/cards").text
    assert card_of(sm, patron) in cards and "/account/pin" in cards


def test_a_guardian_acts_for_her_child_explicitly_and_audited(app, client, sm, now):
    with tx(app, sm) as s:
        mother, stranger = borrower(s, now, "lumme"), borrower(s, now, "lumme")
        child = borrower(s, now, "lumme", category="child", guardian_id=mother)
        book = item(s, now, "lumme")
        lend(s, now - timedelta(days=10), "lumme", child, book)
    login(client, sm, mother)
    own = client.get("/account/loans").text
    assert f"Title {book}" not in own and f"?for={child}" in own
    theirs = client.get(f"/account/loans?for={child}").text
    assert f"Title {book}" in theirs and "You are acting for" in theirs
    done = client.post(f"/account/loans/renew?for={child}", data={"renew_all": "1"})
    assert re.search(rf"Title {book}</strong>: renewed", done.text)
    assert client.get(f"/account/loans?for={stranger}").status_code == 404
    assert client.get("/account/holds?for=99999999999").status_code == 404
    with tx(app, sm) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "circulation.acting_for")).all()
        assert len(events) == 2 and {e.record_id for e in events} == {str(child)}


def test_the_me_api_answers_the_browser_session_with_csrf_for_changes(app, client, sm, now):
    with tx(app, sm) as s:
        patron = borrower(s, now, "lumme")
        lend(s, now - timedelta(days=10), "lumme", patron, item(s, now, "lumme"))
    assert client.get("/api/v1/circulation/me/account").status_code == 401
    login(client, sm, patron)
    account = client.get("/api/v1/circulation/me/account")
    assert account.status_code == 200 and len(account.json["loans"]) == 1
    app.config["WTF_CSRF_ENABLED"] = True
    token = csrf_of(client.get("/account/loans").text)
    refused = client.post("/api/v1/circulation/me/renewals", json={})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    renewed = client.post("/api/v1/circulation/me/renewals", json={}, headers={"X-CSRFToken": token})
    assert renewed.status_code == 200 and renewed.json["results"][0]["renewed"] is True
    # a bearer header means the token, whatever the cookie says
    assert client.get("/api/v1/circulation/me/account", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_czech_patron_reads_her_pages_in_czech(app, client, sm, now):
    with tx(app, sm) as s:
        patron = borrower(s, now, "czech")
        s.get(Patron, patron).language = "cs"
        lend(s, now - timedelta(days=10), "czech", patron, item(s, now, "czech"))
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")
    login(client, sm, patron)
    page = client.get("/account/loans").text
    assert '<html lang="cs">' in page and "Výpůjčky a prodloužení" in page and "Prodloužit vše" in page
    assert "V termínu" in page and "Prodloužit vybrané" in page  # due state and the buttons in words
    assert '<html lang="cs">' in client.get("/account").text
    english = client.get("/account/loans", headers={"Accept-Language": "en"}).text  # the browser's choice wins
    assert '<html lang="en">' in english


def test_a_card_without_borrowing_rights_sees_a_plain_answer(app, client, sm, now):
    with tx(app, sm) as s:
        card = factories.patron(s, now, email="nob@test.kuulo").card_number
    factories.login_patron(client, card)
    for path in ("/account/loans", "/account/holds", "/account/fines", "/account/profile", "/account/cards"):
        page = client.get(path)
        assert page.status_code == 200 and "not registered for borrowing" in page.text
    assert client.get("/account").status_code == 200


def test_a_paused_hold_keeps_its_place_is_skipped_and_resumes_on_its_day(app, client, sm, now):
    from datetime import date

    with tx(app, sm) as s:
        me, second, lender = borrower(s, now, "lumme"), borrower(s, now, "lumme"), borrower(s, now, "lumme")
        book = item(s, now, "lumme")
        lend(s, now - timedelta(days=3), "lumme", lender, book)
        mine = service.place_hold(s, patron_id=me, item_barcode=book, now=now, actor="t").hold.id
        theirs = service.place_hold(s, patron_id=second, item_barcode=book, now=now + timedelta(minutes=1),
                                    actor="t").hold.id
    login(client, sm, me)
    assert client.post(f"/account/holds/{mine}/pause", data={"until": "2026-11-23"},
                       follow_redirects=True).text.count("Choose a day after today") == 1  # not after today
    paused = client.post(f"/account/holds/{mine}/pause", data={"until": "2026-12-10"}, follow_redirects=True)
    assert "The hold is paused." in paused.text and "waits again from" in paused.text
    with tx(app, sm) as s:  # the copy comes back: it goes to the next hold, not the paused one
        service.checkin(s, item_barcode=book, branch="mikkeli", book_drop=False, now=now, actor="t")
        assert s.get(Hold, theirs).state == "ready" and s.get(Hold, mine).state == "suspended"
        assert s.get(Hold, mine).suspended_until == date(2026, 12, 10)
        assert service.resume_due_holds(s, now + timedelta(days=16)) == 0
        assert service.resume_due_holds(s, now + timedelta(days=17)) == 1
        assert s.get(Hold, mine).state == "waiting" and s.get(Hold, mine).suspended_until is None
    # pause without a day, then resume by hand; a ready hold cannot be paused
    client.post(f"/account/holds/{mine}/pause", data={"until": ""})
    assert "until you resume it." in client.get("/account/holds").text
    resumed = client.post(f"/account/holds/{mine}/resume", follow_redirects=True)
    assert "in its old place in the queue" in resumed.text
    assert "The hold is not paused." in client.post(f"/account/holds/{mine}/resume", follow_redirects=True).text
    assert client.post(f"/account/holds/{theirs}/pause", data={}).status_code == 404  # not hers
    assert client.post(f"/account/holds/{mine}/pause", data={"until": "not a day"},
                       follow_redirects=True).text.count("Give the day as a date") == 1
    with tx(app, sm) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "circulation.hold_suspended")) == 2


def test_the_czech_patron_gets_her_reminder_in_czech(app, sm, now):
    with tx(app, sm) as s:
        patron = borrower(s, now, "czech", email="ctenar@test.kuulo")
        s.get(Patron, patron).language = "cs"
        lend_due(s, now, "czech", patron, item(s, now, "czech"), days_overdue=5)
    with app.app_context():
        service.run_nightly(sm, now)
    with tx(app, sm) as s:
        message = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "ctenar@test.kuulo")).one()
        assert message.language == "cs" and "upomínka" in message.subject
        assert message.body.startswith("Dobrý den") and "Vraťte ji prosím co nejdříve" in message.body
        assert "listopadu 2026" in message.body  # the due date written the Czech way


def test_the_loans_page_lists_audiobook_loans_with_the_librarys_by_due_date(app, client, sm, now):
    """Lending registers its e-loans with circulation (which may not import lending): one list by due date."""
    from app.lending import service as lending
    from tests.cdclub.helpers import book

    with tx(app, sm) as s:
        me = borrower(s, now, "lumme")
        soon, later = item(s, now, "lumme"), item(s, now, "lumme")
        lend(s, now - timedelta(days=26), "lumme", me, soon)  # due in a couple of days
        lend(s, now, "lumme", me, later)  # due in four weeks
        audiobook = book(s, now, "Kuunneltava kirja")
        patron = s.get(Patron, me)
        assert lending.borrow(s, patron, audiobook, now=now, policy=lending.lending_policy()).loan is not None
    login(client, sm, me)
    page = client.get("/account/loans").text
    table = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "Kuunneltava kirja" in table and "(audiobook)" in table
    assert table.index(f"Title {soon}") < table.index("Kuunneltava kirja") < table.index(f"Title {later}")
    assert "Renew Kuunneltava kirja in your audiobook loans" in table and 'href="/library/loans"' in table
    # Renew all still renews the library's loans only, with a result per loan
    done = client.post("/account/loans/renew", data={"renew_all": "1"})
    results = done.text.split("Renewal results")[1].split("</section>")[0]
    assert "Kuunneltava kirja" not in results and f"Title {soon}" in results


@pytest.mark.parametrize(("library", "may"), [("lumme", True), ("tampere", False), ("czech", False)])
def test_the_address_is_changed_online_only_where_the_preset_allows(app, client, sm, now, library, may):
    with tx(app, sm) as s:
        me = borrower(s, now, library, postal_address="Vanha katu 1, 50100 Mikkeli")
    login(client, sm, me)
    page = client.get("/account/profile").text
    assert ('name="postal_address"' in page) is may
    assert ("A change of name or postal address is made at the library desk" in page) is (not may)
    done = client.post("/account/profile/contact", data={"email": "uusi@example.fi", "phone": "",
                                                         "postal_address": "Uusi katu 2\n70100 Kuopio"})
    assert done.status_code == 302
    with sm.begin() as s:
        circ = s.get(PatronCirculation, me)
        assert circ.postal_address == ("Uusi katu 2\n70100 Kuopio" if may else "Vanha katu 1, 50100 Mikkeli")
        assert s.get(Patron, me).email == "uusi@example.fi"
        fields = s.scalars(select(AuditEvent.details).where(AuditEvent.action == "circulation.contact_changed")).all()
    assert any("postal_address" in str(f) for f in fields) is may
    assert "Uusi katu" not in str(fields)  # audited without the values
    if may:
        too_long = client.post("/account/profile/contact", data={"email": "", "phone": "",
                                                                 "postal_address": "x" * 501})
        assert too_long.status_code == 400 and "Postal address" in too_long.text


def test_the_service_refuses_an_address_change_the_preset_does_not_allow(app, sm, now):
    from app.errors import DomainError

    with tx(app, sm) as s:
        me = borrower(s, now, "tampere")
        with pytest.raises(DomainError) as refused:
            service.update_contact(s, me, email="", phone="", postal_address="Somewhere 1", now=now, actor="t")
    assert refused.value.code == "address-change-not-allowed"


def test_renewing_at_once_answers_as_renewing_one_by_one(app, sm, now):
    """The loans page's batched Renew all gives the core's answers: the same decisions, due dates, fines
    registered and next notice days as ``service.renew_loans`` for an identical patron."""
    from app.circulation.models import Loan
    from app.circulation.service_account import renew_loans_at_once

    def patron_with_loans(s: Any) -> int:
        me, other = borrower(s, now, "lumme"), borrower(s, now, "lumme")
        free, reserved, late = item(s, now, "lumme"), item(s, now, "lumme"), item(s, now, "lumme")
        express = item(s, now, "lumme", material="express_loan")
        lend(s, now - timedelta(days=10), "lumme", me, free)
        lend(s, now - timedelta(days=10), "lumme", me, reserved)
        lend(s, now - timedelta(days=3), "lumme", me, express)
        lend_due(s, now, "lumme", me, late, days_overdue=5)
        assert service.place_hold(s, patron_id=other, item_barcode=reserved, now=now, actor="t").hold is not None
        return me

    def outcome(s: Any, me: int, results: list[Any]) -> list[tuple[Any, ...]]:
        loans = {loan.id: loan for loan in s.scalars(select(Loan).where(Loan.patron_id == me))}
        return [(r.decision.allowed, r.decision.reason, r.due_at, r.fine_registered, loans[r.loan_id].renewals,
                 loans[r.loan_id].next_notice_on, loans[r.loan_id].due_day) for r in results]

    with tx(app, sm) as s:
        one_by_one, at_once = patron_with_loans(s), patron_with_loans(s)
    with tx(app, sm) as s:
        core = outcome(s, one_by_one, service.renew_loans(s, patron_id=one_by_one, loan_ids=None, now=now, actor="t"))
    with tx(app, sm) as s:
        batched = outcome(s, at_once, renew_loans_at_once(s, patron_id=at_once, loan_ids=None, now=now, actor="t"))
    assert batched == core
    assert [row[1] for row in core].count(None) == 2 and "reserved" in [row[1] for row in core]
    assert any(row[3] for row in core)  # the overdue loan's fine registered at renewal
    with tx(app, sm) as s:  # and again at once: now too soon / the renewal counts as in the core
        again = outcome(s, at_once, renew_loans_at_once(s, patron_id=at_once, loan_ids=None, now=now, actor="t"))
        core_again = outcome(s, one_by_one, service.renew_loans(s, patron_id=one_by_one, loan_ids=None, now=now,
                                                                 actor="t"))
    assert again == core_again


def test_the_loans_page_and_renew_all_make_a_fixed_number_of_statements(app, client, sm, now):
    """No query per loan or hold: the loans page and Renew all cost the same for 4 and for 12 loans."""
    from tests.statements import counted, statements_of

    def patron(s: Any, loans: int) -> int:
        me, other = borrower(s, now, "lumme"), borrower(s, now, "lumme")
        for n in range(loans):
            lend(s, now - timedelta(days=10 + n % 3), "lumme", me, item(s, now, "lumme"))
            held = item(s, now, "lumme")
            lend(s, now, "lumme", other, held)
            assert service.place_hold(s, patron_id=me, item_barcode=held, now=now, actor="t").hold is not None
        return me

    counts = []
    for size in (4, 12):
        with tx(app, sm) as s:
            me = patron(s, size)
        web = app.test_client()
        web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(web, sm, me)
        page = statements_of(app, lambda web=web: web.get("/account/loans"))
        with counted(app) as renew:
            done = web.post("/account/loans/renew", data={"renew_all": "1"})
        assert done.status_code == 200 and done.text.count("renewed, now due on") == size
        counts.append((page, renew.count))
    assert counts[0] == counts[1], counts
