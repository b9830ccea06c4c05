"""The circulation desk with the keyboard only and a simulated barcode scanner (it types the digits and
presses Enter): check out five items to the demo Lumme patron (one refused for someone else's hold, overridden
by the supervisor), then check them in where one fills a hold at another branch (transit slip); clear an
expired hold from the holds shelf (the fee charged once), take a desk payment that lifts a borrowing ban, and
correct a patron's address on the patron record; axe on every page."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.support import axe_check, db_session, focused, tab_to
from tests.conftest import FIXED_NOW

DEMO_CARD = "2000000001"
FREE, ALSO_FREE, HELD, FOR_TRANSIT, FIFTH = "8800001", "8800002", "8800003", "8800004", "8800005"


def _setup(app: Any) -> None:
    from app.circulation import service
    from app.circulation.money import Money
    from tests.circulation.helpers import borrower

    with db_session(app) as s:
        for barcode in (FREE, ALSO_FREE, HELD, FOR_TRANSIT, FIFTH):
            service.add_item(s, library_code="lumme", barcode=barcode, record_key=f"isbn:desk-{barcode}",
                             title=f"Desk copy {barcode}", material_type="book", home_branch="mikkeli",
                             replacement_price=Money.parse("20.00", "EUR"), now=FIXED_NOW)
        other = borrower(s, FIXED_NOW, "lumme")
        service.place_hold(s, patron_id=other, record_key=f"isbn:desk-{HELD}", now=FIXED_NOW, actor="test")
        service.checkin(s, item_barcode=HELD, branch="lumme/mikkeli", now=FIXED_NOW, actor="test")  # hold shelf


def _hold_at_savonlinna(app: Any) -> None:
    from app.circulation import service
    from tests.circulation.helpers import borrower

    with db_session(app) as s:
        other = borrower(s, FIXED_NOW, "lumme")
        service.place_hold(s, patron_id=other, record_key=f"isbn:desk-{FOR_TRANSIT}", pickup_branch="savonlinna",
                           now=FIXED_NOW, actor="test")


def scan(page: Any, barcode: str, expect_text: str) -> str:
    """The scanner: digits and Enter into the focused field; the answer is read out from the live region."""
    assert focused(page)["id"] == "barcode", f"focus is not in the barcode field: {focused(page)}"
    page.keyboard.type(barcode)
    page.keyboard.press("Enter")
    live = page.locator("#desk-live")
    expect(live).to_contain_text(f"Desk copy {barcode}", timeout=10_000)
    expect(live).to_contain_text(expect_text, timeout=10_000)
    return page.locator("#desk-live").inner_text()


def test_checkout_override_and_transit_with_a_scanner(make_context: Any, login_state: Any, live_server: Any) -> None:
    _setup(live_server.app)
    page = make_context(locale="en-GB", storage_state=login_state("desk@demo.kuulo.test")).new_page()
    page.goto(f"/staff/desk/patrons/{DEMO_CARD}")
    assert "Tuntematon sotilas" in page.locator("main").inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'barcode'")

    assert "due" in scan(page, FREE, "due")
    assert "due" in scan(page, ALSO_FREE, "due")
    assert "on hold for someone else" in scan(page, HELD, "on hold for someone else")
    tab_to(page, lambda info: info["id"] == "override_reason")
    page.keyboard.type("the patron needs it today")
    page.keyboard.press("Enter")
    expect(page.locator("#desk-live")).to_contain_text("refusal overridden", timeout=10_000)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'barcode'")
    assert "due" in scan(page, FOR_TRANSIT, "due")
    assert "due" in scan(page, FIFTH, "due")
    loans = page.locator("#loans").inner_text()
    assert all(f"Desk copy {b}" in loans for b in (FREE, ALSO_FREE, HELD, FOR_TRANSIT, FIFTH))
    axe_check(page)

    _hold_at_savonlinna(live_server.app)
    page.goto("/staff/desk/checkin")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'barcode'")
    said = scan(page, FOR_TRANSIT, "Send to")
    assert "Send to Savonlinnan kirjasto." in said
    slip = page.locator("#desk-live a").get_attribute("href")
    pdf = page.request.get(slip)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    for barcode in (FREE, ALSO_FREE, HELD, FIFTH):  # put the demo back as it was
        assert "returned" in scan(page, barcode, "returned")
    axe_check(page)


def _expired_hold_and_banned_patron(app: Any) -> tuple[int, int, str]:
    """A hold on the Mikkeli shelf whose last pickup day has passed, and a patron barred for 12 € of fees."""
    from datetime import timedelta

    from app.accounts.models import Patron
    from app.circulation import service
    from app.circulation.models import Hold, PatronCirculation
    from app.circulation.money import Money
    from app.circulation.service_common import add_fee
    from tests.circulation.helpers import borrower

    with db_session(app) as s:
        service.add_item(s, library_code="lumme", barcode="8800009", record_key="isbn:desk-expired",
                         title="Desk copy never collected", material_type="book", home_branch="mikkeli",
                         replacement_price=Money.parse("20.00", "EUR"), now=FIXED_NOW)
        waiting = borrower(s, FIXED_NOW, "lumme")
        service.place_hold(s, patron_id=waiting, record_key="isbn:desk-expired", now=FIXED_NOW, actor="test")
        service.checkin(s, item_barcode="8800009", branch="lumme/mikkeli", now=FIXED_NOW, actor="test")
        hold = s.scalar(select(Hold).where(Hold.patron_id == waiting))
        assert hold.state == "ready"
        hold.pickup_expires_at = FIXED_NOW - timedelta(hours=1)
        banned = borrower(s, FIXED_NOW, "lumme")
        add_fee(s, patron_id=banned, library_id=s.get(PatronCirculation, banned).library_id, kind="overdue_fine",
                amount=Money.parse("12.00", "EUR"), reason="overdue fine", now=FIXED_NOW, actor="test",
                dedup_key="browser:ban")
        service.recompute_billing_ban(s, banned, now=FIXED_NOW)
        return waiting, banned, s.get(Patron, banned).card_number


def _uncollected_fees(app: Any, patron_id: int) -> list[int]:
    from app.circulation.models import FeeEntry

    with db_session(app) as s:
        return list(s.scalars(select(FeeEntry.amount_minor).where(FeeEntry.patron_id == patron_id,
                                                                  FeeEntry.kind == "uncollected_hold")))


def test_expired_hold_payment_lifting_a_ban_and_an_address_by_keyboard(make_context: Any, login_state: Any,
                                                                       live_server: Any) -> None:
    app = live_server.app
    waiting, banned, banned_card = _expired_hold_and_banned_patron(app)
    page = make_context(locale="en-GB", storage_state=login_state("desk@demo.kuulo.test")).new_page()

    page.goto("/staff/desk/holds")
    assert "Desk copy never collected" in page.locator("main").inner_text()
    tab_to(page, lambda info: info["text"].strip() == "Clear the selected holds", limit=80)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("1 expired holds cleared", timeout=10_000)
    assert "Desk copy never collected" not in page.locator("main").inner_text()
    assert _uncollected_fees(app, waiting) == [100]
    page.reload()  # a second look clears nothing more: the fee is charged once
    assert _uncollected_fees(app, waiting) == [100]
    axe_check(page)

    page.goto(f"/staff/desk/patrons/{banned_card}")
    assert "Borrowing barred for unpaid fees" in page.locator("#desk-summary").inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'barcode'")
    tab_to(page, lambda info: info["text"].strip() == "Record the payment", limit=120)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("The borrowing ban is lifted.", timeout=10_000)
    assert "No blocks: the patron may borrow." in page.locator("#desk-summary").inner_text()
    axe_check(page)

    page.goto(f"/staff/desk/patrons/{banned_card}/record")
    tab_to(page, lambda info: info["id"] == "postal_address", limit=80)
    page.keyboard.press("Control+A")
    page.keyboard.type("Porrassalmenkatu 17\n50100 Mikkeli")
    tab_to(page, lambda info: info["text"].strip() == "Save the record", limit=40)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("The record is saved.", timeout=10_000)
    assert "changed the contact details" in page.locator("#history").inner_text()
    from app.circulation.models import PatronCirculation

    with db_session(app) as s:
        assert s.get(PatronCirculation, banned).postal_address == "Porrassalmenkatu 17\n50100 Mikkeli"
    axe_check(page)
