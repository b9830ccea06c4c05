"""In real Chromium: a patron searches the catalogue by a subject word, opens the record, sees where the copies
are and places a hold for pickup at her branch with the keyboard; every page passes axe-core (WCAG 2.1 AA),
in Finnish and Swedish too."""
from __future__ import annotations

import pytest

from tests.browser.support import axe_check, login_patron, set_language

SVEN = "2000000002"  # OUTI, home branch Oulun pääkirjasto; the demo's Kalevala (subject "mytologia") is there


@pytest.mark.browser
def test_search_open_record_and_place_a_hold(make_context):
    page = make_context().new_page()
    page.goto("/catalogue")
    axe_check(page)
    login_patron(page, SVEN)
    page.goto("/catalogue")
    page.fill("#q", "mytolog")
    page.keyboard.press("Enter")
    page.wait_for_url("**/catalogue?q=mytolog**")
    assert "1 record found" in page.locator("[role=status]").inner_text()
    axe_check(page)
    page.get_by_role("link", name="Kalevala").click()
    page.wait_for_url("**/catalogue/records/**")
    assert page.locator("h1").inner_text() == "Kalevala"
    assert "Oulun pääkirjasto" in page.locator("table").inner_text()
    assert page.locator("#pickup_branch").input_value() == "oulu_main"
    axe_check(page)
    page.get_by_role("button", name="Place a hold").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Hold placed" in page.locator(".flashes[role=status]").inner_text()
    axe_check(page)
    for lang in ("fi", "sv"):
        set_language(page, lang)
        page.goto("/catalogue?q=mytologia")
        assert page.evaluate("document.documentElement.lang") == lang
        axe_check(page)
