"""The circulation desk's pages, through the HTTP client as a clerk and a supervisor would use them
(no JavaScript: POST, redirect, the answer on the page)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts.models import Patron, StaffUser
from app.audit import AuditEvent
from app.circulation import service
from app.circulation.models import FeeEntry, Hold, Item, Loan, PatronCirculation
from app.circulation.service_common import add_fee
from tests.circulation.helpers import borrower, item, money
from tests.desk.conftest import login

pytestmark = pytest.mark.usefixtures("desk")


def card(sm: Any, patron_id: int) -> str:
    with sm.begin() as s:
        return s.get(Patron, patron_id).card_number


def make(sm: Any, now: Any, **kw: Any) -> int:
    with sm.begin() as s:
        return borrower(s, now, "lumme", **kw)


def copy(sm: Any, now: Any, **kw: Any) -> str:
    with sm.begin() as s:
        return item(s, now, "lumme", **kw)


def scan(client: Any, card_number: str, barcode: str, **extra: str) -> Any:
    resp = client.post(f"/staff/desk/patrons/{card_number}/checkout", data={"barcode": barcode, **extra})
    assert resp.status_code == 302, resp.text
    return client.get(resp.headers["Location"])


def test_a_scan_lends_the_item_and_says_title_and_due_date(client, sm, now):
    patron_id = make(sm, now)
    barcode = copy(sm, now)
    login(client, "clerk@test.kuulo")
    page = scan(client, card(sm, patron_id), barcode)
    assert page.status_code == 200
    assert f"Title {barcode} – due" in page.text
    assert 'role="status"' in page.text and "autofocus" in page.text
    with sm.begin() as s:
        loan = s.scalar(select(Loan).where(Loan.patron_id == patron_id))
        assert loan is not None and loan.channel == "desk"


def test_a_refusal_is_said_in_words_and_only_a_supervisor_overrides_it(client, sm, now):
    child = make(sm, now, category="child", birth_date=date(2016, 5, 1))
    dvd = copy(sm, now, material="dvd", age_rating=16)
    login(client, "clerk@test.kuulo")
    page = scan(client, card(sm, child), dvd)
    assert "Age rating: the item is K16 and the patron is 10." in page.text
    assert "A circulation supervisor can override this refusal." in page.text
    refused = client.post(f"/staff/desk/patrons/{card(sm, child)}/checkout",
                          data={"barcode": dvd, "override_reason": "parent present"})
    assert refused.status_code == 403
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(Loan).where(Loan.patron_id == child)) == 0

    client.post("/logout")
    login(client, "super@test.kuulo")
    page = scan(client, card(sm, child), dvd)
    assert "Override and check out" in page.text
    page = scan(client, card(sm, child), dvd, override_reason="the parent is here and agrees")
    assert "refusal overridden" in page.text
    with sm.begin() as s:
        loan = s.scalar(select(Loan).where(Loan.patron_id == child))
        assert loan is not None
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "circulation.checkout_override"))
        assert event is not None and "the parent is here" in str(event.details)


def test_an_item_on_hold_for_someone_else_is_refused_and_the_override_puts_that_hold_back_in_the_queue(
        client, sm, now):
    waiting_patron, patron = make(sm, now), make(sm, now)
    barcode = copy(sm, now, record_key="isbn:desk-hold")
    with sm.begin() as s:
        hold = service.place_hold(s, patron_id=waiting_patron, record_key="isbn:desk-hold", now=now, actor="test").hold
        hold_id = hold.id
        service.checkin(s, item_barcode=barcode, branch="lumme/mikkeli", now=now, actor="test")
        assert s.get(Hold, hold_id).state == "ready"
    login(client, "super@test.kuulo")
    page = scan(client, card(sm, patron), barcode)
    assert "The item is on hold for someone else." in page.text
    page = scan(client, card(sm, patron), barcode, override_reason="the patron's need is urgent")
    assert "due" in page.text
    with sm.begin() as s:
        hold = s.get(Hold, hold_id)
        assert hold.state == "waiting" and hold.item_id is None and hold.hold_identifier is None
        assert s.scalar(select(Item.status).where(Item.barcode == barcode)) == "on_loan"


def test_checking_out_the_patrons_own_hold_fills_it(client, sm, now):
    patron = make(sm, now)
    barcode = copy(sm, now, record_key="isbn:desk-own")
    with sm.begin() as s:
        hold_id = service.place_hold(s, patron_id=patron, record_key="isbn:desk-own", now=now, actor="test").hold.id
        service.checkin(s, item_barcode=barcode, branch="lumme/mikkeli", now=now, actor="test")
    login(client, "clerk@test.kuulo")
    scan(client, card(sm, patron), barcode)
    with sm.begin() as s:
        assert s.get(Hold, hold_id).state == "collected"


def test_a_due_date_override_moves_to_the_next_opening_day(client, sm, now):
    patron, barcode = make(sm, now), copy(sm, now)
    login(client, "clerk@test.kuulo")
    scan(client, card(sm, patron), barcode, due_on="2026-12-06")  # Independence Day: closed
    with sm.begin() as s:
        loan = s.scalar(select(Loan).where(Loan.patron_id == patron))
        assert loan.due_at.astimezone(service_zone()).date() == date(2026, 12, 7)


def service_zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Helsinki")


def test_renewing_selected_loans_answers_per_item(client, sm, now):
    patron, other = make(sm, now), make(sm, now)
    first, second = copy(sm, now, record_key="isbn:r1"), copy(sm, now, record_key="isbn:r2")
    with sm.begin() as s:
        loans = [service.checkout(s, patron_id=patron, item_barcode=b, branch="lumme/mikkeli",
                                  now=now - timedelta(days=20), actor="test").loan.id for b in (first, second)]
        service.place_hold(s, patron_id=other, record_key="isbn:r2", now=now, actor="test")
    login(client, "clerk@test.kuulo")
    resp = client.post(f"/staff/desk/patrons/{card(sm, patron)}/renew", data={"loan": [str(i) for i in loans]})
    page = client.get(resp.headers["Location"])
    assert f"{first} renewed, due" in page.text
    assert f"{second} not renewed: Someone has placed a hold on it." in page.text


def test_check_in_names_the_fine_the_hold_shelf_and_the_transit_with_slips(client, sm, now):
    borrower_id, here_waiting, there_waiting = make(sm, now), make(sm, now), make(sm, now)
    late = copy(sm, now)
    for_here = copy(sm, now, record_key="isbn:here")
    for_there = copy(sm, now, record_key="isbn:there", branch="savonlinna")
    with sm.begin() as s:
        for barcode in (late, for_here, for_there):
            service.checkout(s, patron_id=borrower_id, item_barcode=barcode, branch="lumme/mikkeli",
                             now=now - timedelta(days=40), actor="test")
        service.place_hold(s, patron_id=here_waiting, record_key="isbn:here", now=now, actor="test")
        service.place_hold(s, patron_id=there_waiting, record_key="isbn:there", pickup_branch="savonlinna", now=now,
                           actor="test")
        names = [s.get(Patron, i).name for i in (here_waiting,)]
    login(client, "clerk@test.kuulo")
    assert "<input" in client.get("/staff/desk/checkin").text
    client.post("/staff/desk/checkin", data={"barcode": late})
    page = client.get("/staff/desk/checkin")
    assert "returned." in page.text and "Fine charged:" in page.text

    client.post("/staff/desk/checkin", data={"barcode": for_here})
    page = client.get("/staff/desk/checkin")
    assert "Put on the hold shelf for" in page.text and "(last pickup day" in page.text
    with sm.begin() as s:
        hold = s.scalar(select(Hold).where(Hold.patron_id == here_waiting))
    slip = client.get(f"/staff/desk/slips/hold/{hold.id}.pdf")
    assert slip.status_code == 200 and slip.mimetype == "application/pdf" and slip.data.startswith(b"%PDF")
    assert hold.hold_identifier.encode() in slip.data and names[0].encode() not in slip.data

    client.post("/staff/desk/checkin", data={"barcode": for_there})
    page = client.get("/staff/desk/checkin")
    assert "Send to Savonlinna." in page.text
    with sm.begin() as s:
        hold = s.scalar(select(Hold).where(Hold.patron_id == there_waiting))
    slip = client.get(f"/staff/desk/slips/transit/{hold.id}.pdf")
    assert slip.status_code == 200 and b"Savonlinna" in slip.data


def test_book_drop_mode_dates_returns_to_the_next_opening_day(sm, now, ctx):
    sunday_evening = now.replace(day=29, hour=18)  # Sunday 29 Nov 2026: Mikkeli is closed
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        barcode = item(s, now, "lumme")
        service.checkout(s, patron_id=patron, item_barcode=barcode, branch="lumme/mikkeli", now=now, actor="test")
        branch = service.desk_branches(s, s.scalar(select(StaffUser).where(StaffUser.email == "clerk@test.kuulo")))[0]
        result = service.desk_checkin(s, item_barcode=barcode, branch=branch, now=sunday_evening, actor="test",
                                      book_drop=True)
        assert result.returned_on == date(2026, 11, 30)


def test_clearing_an_expired_hold_charges_the_fee_once(client, sm, now):
    waiting = make(sm, now)
    barcode = copy(sm, now, record_key="isbn:expire")
    with sm.begin() as s:
        hold_id = service.place_hold(s, patron_id=waiting, record_key="isbn:expire", now=now - timedelta(days=30),
                                     actor="test").hold.id
        service.checkin(s, item_barcode=barcode, branch="lumme/mikkeli", now=now - timedelta(days=20), actor="test")
    login(client, "clerk@test.kuulo")
    page = client.get("/staff/desk/holds")
    assert "Not collected in time" in page.text and f'value="{hold_id}"' in page.text
    for _ in range(2):
        client.post("/staff/desk/holds/clear", data={"hold": str(hold_id)})
    with sm.begin() as s:
        fees = s.scalars(select(FeeEntry.amount_minor).where(FeeEntry.patron_id == waiting,
                                                             FeeEntry.kind == "uncollected_hold")).all()
        assert fees == [100]
        assert s.get(Hold, hold_id).state == "expired"
        assert s.scalar(select(Item.status).where(Item.barcode == barcode)) == "available"


def test_a_desk_payment_that_lifts_the_ban_says_so(client, sm, now):
    patron = make(sm, now)
    with sm.begin() as s:
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="overdue_fine",
                amount=money("lumme", "12.00"), reason="overdue fine", now=now, actor="test", dedup_key="t:1")
        service.recompute_billing_ban(s, patron, now=now)
    login(client, "clerk@test.kuulo")
    page = client.get(f"/staff/desk/patrons/{card(sm, patron)}")
    assert "Borrowing barred for unpaid fees" in page.text
    resp = client.post(f"/staff/desk/patrons/{card(sm, patron)}/pay", data={"amount": "2,50", "method": "card"})
    page = client.get(resp.headers["Location"])
    assert "Payment of" in page.text and "The borrowing ban is lifted." in page.text
    resp = client.post(f"/staff/desk/patrons/{card(sm, patron)}/pay", data={"method": "cash"})
    page = client.get(resp.headers["Location"])
    assert "Nothing owed." in page.text
    with sm.begin() as s:
        assert service.outstanding_debits(s, patron) == []


def test_only_a_supervisor_writes_off(client, sm, now):
    patron = make(sm, now)
    with sm.begin() as s:
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="overdue_fine",
                amount=money("lumme", "3.00"), reason="overdue fine", now=now, actor="test", dedup_key="t:2")
        fee_id = s.scalar(select(FeeEntry.id).where(FeeEntry.patron_id == patron))
    login(client, "clerk@test.kuulo")
    assert client.post(f"/staff/desk/patrons/{card(sm, patron)}/fees/{fee_id}/write-off",
                       data={"reason": "goodwill"}).status_code == 403
    client.post("/logout")
    login(client, "super@test.kuulo")
    client.post(f"/staff/desk/patrons/{card(sm, patron)}/fees/{fee_id}/write-off", data={"reason": "goodwill"})
    with sm.begin() as s:
        assert service.outstanding_debits(s, patron) == []


def test_patron_lookup_by_card_name_with_birth_year_phone_and_email(client, sm, now):
    patron = make(sm, now, email="hilkka@example.test", phone="+358 40 123 4567", birth_date=date(1956, 3, 3))
    with sm.begin() as s:
        s.get(Patron, patron).name = "Hilkka Virtanen"
    other_library = None
    with sm.begin() as s:
        other_library = borrower(s, now, "outi")
        s.get(Patron, other_library).name = "Hilkka Outinen"
    login(client, "clerk@test.kuulo")
    number = card(sm, patron)
    resp = client.get("/staff/desk", query_string={"q": number})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/staff/desk/patrons/{number}")
    for q in ("virtanen 1956", "hilkka@example", "040 123", "1234567"):
        page = client.get("/staff/desk", query_string={"q": q})
        assert "Hilkka Virtanen" in page.text, q
    assert "No patron of this library matches." in client.get("/staff/desk", query_string={"q": "virtanen 1957"}).text
    assert "Hilkka Outinen" not in client.get("/staff/desk", query_string={"q": "hilkka"}).text
    assert client.get(f"/staff/desk/patrons/{card(sm, other_library)}").status_code == 404


def test_notes_for_the_desk_are_kept_and_removed(client, sm, now):
    patron = make(sm, now)
    login(client, "clerk@test.kuulo")
    client.post(f"/staff/desk/patrons/{card(sm, patron)}/notes", data={"text": "Prefers large print"})
    assert "Prefers large print" in client.get(f"/staff/desk/patrons/{card(sm, patron)}").text


def test_hostile_input_gets_a_clear_4xx(client, sm, now):
    patron = make(sm, now)
    login(client, "clerk@test.kuulo")
    resp = client.post(f"/staff/desk/patrons/{card(sm, patron)}/checkout", data={"barcode": "L\x000001"})
    assert resp.status_code == 422 and "cannot be saved" in resp.text
    assert client.get("/staff/desk/patrons/12%00").status_code == 404
    assert client.get("/staff/desk/patrons/" + "9" * 300).status_code == 404
    assert client.post("/staff/desk/checkin", data={"barcode": "x" * 500}).status_code == 422
    assert client.get("/staff/desk", query_string={"q": "\x00"}).status_code == 200
    page = scan(client, card(sm, patron), "NO-SUCH")
    assert "No item has this barcode." in page.text


def test_the_desk_api_accepts_the_circulation_role(client, sm, now):
    from app.accounts import service as accounts

    patron, barcode = make(sm, now), copy(sm, now)
    with sm.begin() as s:
        clerk = s.scalar(select(StaffUser).where(StaffUser.email == "clerk@test.kuulo"))
        raw, _tok = accounts.issue_token(s, now=now, days=1, staff=clerk)
    resp = client.post("/api/v1/circulation/checkouts", headers={"Authorization": f"Bearer {raw}"},
                       json={"card_number": card(sm, patron), "item_barcode": barcode, "branch": "lumme/mikkeli"})
    assert resp.status_code == 201, resp.text


def test_the_desk_corrects_the_address_and_notice_channels_audited_without_values(client, sm, now):
    patron = make(sm, now)
    login(client, "clerk@test.kuulo")
    number = card(sm, patron)
    refused = client.post(f"/staff/desk/patrons/{number}/contact",
                          data={"email": "", "phone": "", "postal_address": "", "notice_channels": ["letter"]})
    assert refused.status_code == 422 and "Each chosen channel needs its contact detail" in refused.text
    resp = client.post(f"/staff/desk/patrons/{number}/contact",
                       data={"email": "uusi@kirjasto.fi", "phone": "040 555 0101",
                             "postal_address": "Hallituskatu 1, 50100 Mikkeli", "notice_channels": ["letter", "email"]})
    assert resp.status_code == 302
    assert "The contact details are saved." in client.get(resp.headers["Location"]).text
    with sm.begin() as s:
        circ = s.get(PatronCirculation, patron)
        assert circ.postal_address == "Hallituskatu 1, 50100 Mikkeli" and circ.notice_channels == ["letter", "email"]
        assert s.get(Patron, patron).email == "uusi@kirjasto.fi"
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "circulation.contact_changed"))
        assert "postal_address" in str(event.details) and "Hallituskatu" not in str(event.details)


def test_an_item_on_the_shelf_is_marked_missing_and_gets_a_code_128_label(client, sm, now):
    patron = make(sm, now)
    on_shelf, lent = copy(sm, now), copy(sm, now)
    with sm.begin() as s:
        service.checkout(s, patron_id=patron, item_barcode=lent, branch="lumme/mikkeli", now=now, actor="test")
    login(client, "clerk@test.kuulo")
    assert "Change the status" in client.get(f"/staff/desk/items/{on_shelf}").text
    resp = client.post(f"/staff/desk/items/{on_shelf}/status", data={"status": "lost"})
    assert "The status is saved." in client.get(resp.headers["Location"]).text
    resp = client.post(f"/staff/desk/items/{lent}/status", data={"status": "withdrawn"})
    assert "The item is on loan: check it in first." in client.get(resp.headers["Location"]).text
    with sm.begin() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == on_shelf)) == "lost"
        assert s.scalar(select(Item.status).where(Item.barcode == lent)) == "on_loan"
    label = client.get(f"/staff/desk/items/{on_shelf}/label.pdf")
    assert label.status_code == 200 and label.data.startswith(b"%PDF") and on_shelf.encode() in label.data
    assert client.get("/staff/desk/items/NOPE").status_code == 404


def test_the_answers_kept_for_the_next_page_stay_small_however_many_patrons_are_served(client, sm, now):
    cards = [card(sm, make(sm, now)) for _ in range(12)]
    login(client, "clerk@test.kuulo")
    for number in cards:
        for _ in range(3):
            client.post(f"/staff/desk/patrons/{number}/checkout", data={"barcode": "NO-SUCH-" + "9" * 30})
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) < 2000
    assert "No item has this barcode." in client.get(f"/staff/desk/patrons/{cards[-1]}").text
    assert "No item has this barcode." not in client.get(f"/staff/desk/patrons/{cards[0]}").text
