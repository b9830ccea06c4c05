"""Kuulo's pages are plain HTML forms: with JavaScript switched off, logging in still works."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.browser.support import PIN


def test_patron_login_works_without_javascript(make_context: Any) -> None:
    context = make_context(java_script_enabled=False)
    page = context.new_page()
    page.goto("/language/fi?next=/login")
    assert urlsplit(page.url).path == "/login"
    page.fill("#card_number", "2000000004")
    page.fill("#secret", PIN)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert urlsplit(page.url).path == "/account"
    assert "2000000004" in page.locator("main").inner_text()
    # Logging out is a form too.
    with page.expect_navigation():
        page.locator("form[action$='/logout'] button").click()
    assert urlsplit(page.url).path == "/"
    assert page.locator("form[action$='/logout']").count() == 0
