"""The circulation desk with the keyboard only and a simulated barcode scanner (it types the digits and
presses Enter): check out to the demo Lumme patron (one item refused for someone else's hold, overridden by
the supervisor), then check one in that fills a hold at another branch (transit slip); axe on both pages."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.support import axe_check, db_session, focused, tab_to
from tests.conftest import FIXED_NOW

DEMO_CARD = "2000000001"
FREE, ALSO_FREE, HELD, FOR_TRANSIT = "8800001", "8800002", "8800003", "8800004"


def _setup(app: Any) -> None:
    from app.circulation import service
    from app.circulation.money import Money
    from tests.circulation.helpers import borrower

    with db_session(app) as s:
        for barcode in (FREE, ALSO_FREE, HELD, FOR_TRANSIT):
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
    loans = page.locator("#loans").inner_text()
    assert all(f"Desk copy {b}" in loans for b in (FREE, ALSO_FREE, HELD, FOR_TRANSIT))
    axe_check(page)

    _hold_at_savonlinna(live_server.app)
    page.goto("/staff/desk/checkin")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'barcode'")
    said = scan(page, FOR_TRANSIT, "Send to")
    assert "Send to Savonlinnan kirjasto." in said
    slip = page.locator("#desk-live a").get_attribute("href")
    pdf = page.request.get(slip)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    for barcode in (FREE, ALSO_FREE, HELD):  # put the demo back as it was
        assert "returned" in scan(page, barcode, "returned")
    axe_check(page)
