"""My account in the browser, keyboard only after the first page: the demo Lumme patron renews all her loans
and reads the result per item (one renewed, the reserved one refused in words); the Czech library's patron
reads her loans, holds and fines in Czech (axe-core in cs)."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.support import axe_check, db_session, login_patron, path_of, press, skip_to_main, tab_to
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.browser


@pytest.fixture()
def reserved_dvd(live_server: Any) -> Any:
    """Another Lumme patron reserves the DVD the demo patron has on loan (L0004); cancelled afterwards."""
    from app.accounts import service as accounts
    from app.circulation import service
    from app.circulation.models import Hold

    with db_session(live_server.app) as s:
        other = accounts.create_patron(s, name="Varaaja", email="", pin="1234", language="fi", now=FIXED_NOW,
                                       actor="test")
        service.enrol_patron(s, patron_id=other.id, library_code="lumme", category="adult", home_branch="mikkeli",
                             notice_channels=[], postal_address="", responsible_patron_id=None, now=FIXED_NOW,
                             actor="test", card_expires_on=date(2030, 1, 1))
        hold = service.place_hold(s, patron_id=other.id, item_barcode="L0004", now=FIXED_NOW, actor="test").hold
        assert hold is not None
        hold_id = hold.id
    yield
    with db_session(live_server.app) as s:
        if s.scalar(select(Hold.state).where(Hold.id == hold_id)) != "cancelled":
            service.cancel_hold(s, hold_id, by="library", now=FIXED_NOW, actor="test")


def test_the_lumme_patron_renews_with_the_keyboard_and_reads_each_result(make_context: Any, reserved_dvd: Any):
    page = make_context(locale="en-GB").new_page()
    login_patron(page, "2000000001")
    page.goto("/account/loans")
    assert "Tuntematon sotilas" in page.locator("main").inner_text()
    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "button" and info["name"] == "renew_all", limit=40)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/account/loans/renew"
    results = page.get_by_role("status").filter(has_text="Renewal results")
    text = results.inner_text()
    assert "Tuntematon sotilas: renewed, now due on" in text
    assert "Tuntematon sotilas (DVD): not renewed. The item is reserved for another patron." in text
    assert page.evaluate("document.activeElement.id") == "page-title", "the page's heading takes focus"
    assert press(page, "Tab")["tag"] in ("a", "input", "button")
    axe_check(page)
    for path in ("/account", "/account/holds", "/account/fines", "/account/profile", "/account/cards"):
        page.goto(path)
        axe_check(page)


def test_the_czech_patron_reads_her_account_in_czech(make_context: Any):
    page = make_context(locale="cs-CZ").new_page()
    login_patron(page, "2000000004")
    for path, heading in (("/account/loans", "Výpůjčky a prodloužení"), ("/account/holds", "Rezervace"),
                          ("/account/fines", "Poplatky a platby")):
        page.goto(path)
        assert page.evaluate("document.documentElement.lang") == "cs"
        assert page.locator("h1").inner_text() == heading
        axe_check(page)
    page.goto("/account/loans")
    assert "Babička" in page.locator("main").inner_text()
