"""Keyboard-only use: after opening the first page, only page.keyboard (Tab, Shift+Tab, Enter, Space, typing).
Every element the Tab key reaches must show a visible focus indicator."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import (
    PIN,
    STAFF_PASSWORD,
    assert_focus_visible,
    login_patron,
    login_staff,
    path_of,
    press,
    skip_to_main,
    tab_through_both_ways,
    tab_to,
)


@pytest.fixture()
def kb_page(make_context: Any) -> Any:
    return make_context(locale="en-GB").new_page()


def test_patron_logs_in_with_the_keyboard_only(kb_page: Any) -> None:
    page = kb_page
    page.goto("/login")
    skip_to_main(page)
    assert press(page, "Tab")["id"] == "card_number"
    page.keyboard.type("2000000001")
    assert press(page, "Tab")["id"] == "secret"
    page.keyboard.type(PIN)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/account"
    assert "2000000001" in page.locator("main").inner_text()


def test_wrong_pin_error_summary_takes_focus_and_links_to_the_field(kb_page: Any) -> None:
    page = kb_page
    page.goto("/login")
    skip_to_main(page)
    press(page, "Tab")
    page.keyboard.type("2000000002")
    press(page, "Tab")
    page.keyboard.type("9999")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/login"

    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert summary.get_attribute("role") == "alert", "the summary is announced"
    assert page.get_by_role("alert").count() == 1
    # It also takes focus (autofocus) — unless the address carries #main from the skip link: then the browser
    # focuses main instead, and the summary's link is the first Tab stop in main.
    has_focus = page.evaluate("document.activeElement.id") == "error-summary"
    assert has_focus or page.evaluate("document.activeElement.id") == "main"

    # Tab from the summary (or from main, after the skip link) reaches the summary's link to the PIN field.
    if not has_focus:
        skip_to_main(page)
    link = press(page, "Tab")
    assert link["tag"] == "a" and link["href"] == "#secret", link
    page.keyboard.press("Enter")
    field = assert_focus_visible(page)
    assert field["id"] == "secret", "the summary's link moves focus to the field"
    assert page.locator("#secret").get_attribute("aria-invalid") == "true"
    assert "secret-error" in (page.locator("#secret").get_attribute("aria-describedby") or "")

    # Shift+Tab back to the card number, which kept its value; then fix the PIN and log in.
    assert press(page, "Shift+Tab")["id"] == "card_number"
    assert page.locator("#card_number").input_value() == "2000000002"
    assert press(page, "Tab")["id"] == "secret"
    page.keyboard.type(PIN)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/account"


def test_admin_logs_in_and_opens_the_audit_log_with_the_keyboard_only(kb_page: Any) -> None:
    page = kb_page
    page.goto("/staff/login")
    skip_to_main(page)
    assert press(page, "Tab")["id"] == "email"
    page.keyboard.type("admin@demo.kuulo.test")
    assert press(page, "Tab")["id"] == "password"
    page.keyboard.type(STAFF_PASSWORD)
    button = press(page, "Tab")
    assert button["tag"] == "button", button
    with page.expect_navigation():
        page.keyboard.press("Space")  # buttons also work with Space
    assert path_of(page) == "/staff"

    skip_to_main(page)
    tab_to(page, lambda info: (info["href"] or "").endswith("/staff/audit"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/staff/audit"
    assert page.locator("h1").inner_text() == "Audit log"
    assert page.locator("table tbody tr").count() >= 1


def test_language_switcher_works_with_the_keyboard(kb_page: Any) -> None:
    page = kb_page
    page.goto("/login")
    tab_to(page, lambda info: (info["href"] or "").startswith("/language/sv"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/login"
    assert page.evaluate("document.documentElement.lang") == "sv"
    current = page.locator(".languages a[aria-current=true]")
    assert current.count() == 1 and current.get_attribute("lang") == "sv"


def _login_patron(page: Any) -> None:
    login_patron(page, "2000000003")


def _login_admin(page: Any) -> None:
    login_staff(page, "admin@demo.kuulo.test")


@pytest.mark.parametrize(("path", "login"), [
    ("/", None), ("/login", None), ("/staff/login", None), ("/reset", None),
    ("/account", _login_patron), ("/account/pin", _login_patron),
    ("/staff", _login_admin), ("/staff/audit", _login_admin), ("/no-such-page", None),
], ids=["home", "login", "staff-login", "reset", "account", "change-pin", "staff-home", "audit", "not-found"])
def test_every_tab_stop_shows_focus_both_ways(kb_page: Any, path: str, login: Any) -> None:
    """Tab through the whole page and back with Shift+Tab: each stop shows a focus indicator."""
    page = kb_page
    if login:
        login(page)
    page.goto(path)
    tab_through_both_ways(page)
