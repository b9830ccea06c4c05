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
