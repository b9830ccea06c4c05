"""Library cards and the loan history in the browser, keyboard only after the login form: a patron with two
cards reports one lost (the confirmation step, then the status message) and can still log in with the other;
a Czech patron keeps her loan history and reads the page in Czech; the desk's cards page passes axe-core.
Each test makes its own patron, so the demo patrons other browser tests use stay as they are."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.browser.support import axe_check, db_session, login_patron, login_staff, skip_to_main, tab_to
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.browser


def _patron(live_server: Any, library: str, branch: str, language: str, name: str) -> str:
    from app.accounts import service as accounts
    from app.circulation import service

    with db_session(live_server.app) as s:
        patron = accounts.create_patron(s, name=name, email="", pin="1234", language=language, now=FIXED_NOW,
                                        actor="test")
        service.enrol_patron(s, patron_id=patron.id, library_code=library, category="adult", home_branch=branch,
                             notice_channels=[], postal_address="", responsible_patron_id=None, now=FIXED_NOW,
                             actor="test", card_expires_on=date(2030, 1, 1))
        return patron.card_number


def test_a_patron_reports_her_second_card_lost_with_the_keyboard(make_context: Any, live_server: Any):
    from sqlalchemy import select

    from app.accounts.models import Patron
    from app.circulation import service_cards

    card = _patron(live_server, "lumme", "mikkeli", "en", "Kortti Kaksinen")
    with db_session(live_server.app) as s:
        patron_id = s.scalar(select(Patron.id).where(Patron.card_number == card))
        spare = service_cards.issue_card(s, patron_id, now=FIXED_NOW, actor="test").number
    page = make_context(locale="en-GB").new_page()
    login_patron(page, spare)  # the second card opens the account
    page.goto("/account/cards")
    axe_check(page)
    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "a" and f"Report card {spare} lost" in info["text"], limit=40)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"Report card {spare} lost?" in page.locator("main").inner_text()
    axe_check(page)
    tab_to(page, lambda info: info["type"] == "checkbox", limit=40)
    page.keyboard.press("Space")
    tab_to(page, lambda info: info["tag"] == "button", limit=5)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    status = page.locator("[role=status]").inner_text()
    assert "The card is blocked" in status
    assert "Reported lost: blocked" in page.locator("main table").inner_text()
    axe_check(page)
    other = make_context(locale="en-GB").new_page()
    login_patron(other, spare)
    assert "/login" in other.url  # refused, as a wrong PIN would be
    login_patron(other, card)
    assert other.url.endswith("/account")


def test_the_czech_patron_keeps_her_loan_history_in_czech_and_the_desk_page_passes_axe(make_context: Any,
                                                                                        live_server: Any):
    card = _patron(live_server, "czech", "main", "cs", "Jana Nováková")
    page = make_context(locale="cs-CZ").new_page()
    login_patron(page, card)
    page.goto("/account/history")
    assert page.evaluate("document.documentElement.lang") == "cs"
    axe_check(page)
    skip_to_main(page)
    tab_to(page, lambda info: info["type"] == "radio", limit=40)
    page.keyboard.press("ArrowUp")  # from "no" (the default, checked) to "yes"
    tab_to(page, lambda info: info["tag"] == "button", limit=5)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("[role=status]").count() == 1
    assert page.locator("input[name=keep][value=on]").is_checked()
    axe_check(page)

    desk = make_context(locale="en-GB").new_page()
    lumme = _patron(live_server, "lumme", "mikkeli", "fi", "Tiskin Testaaja")
    login_staff(desk, "desk@demo.kuulo.test")
    desk.goto(f"/staff/desk/patrons/{lumme}/cards")
    assert "Issue a new card" in desk.locator("main").inner_text()
    axe_check(desk)
