"""Every page, in every language, in real Chromium: no axe-core WCAG 2.1 A/AA violations, one h1, the right
<html lang>, the four landmarks, a descriptive <title>, and a skip link that is the first stop of the Tab key
and moves focus to <main>."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.support import LANGUAGES, axe_check, set_language
from tests.conftest import FIXED_NOW

ADMIN = "admin@demo.kuulo.test"
LIBRARIAN = "librarian@demo.kuulo.test"


def reset_token(app: Any, *, card: str | None = None, email: str | None = None) -> str:
    """A fresh one-time reset link for a demo patron (by card) or staff user (by email)."""
    from app import db
    from app.accounts import service
    from app.accounts.models import Patron, StaffUser

    with app.app_context(), db.get_sessionmaker(app).begin() as session:
        if card:
            patron = session.scalar(select(Patron).where(Patron.card_number == card))
            return service.create_one_time_link(session, purpose="reset", now=FIXED_NOW, hours=24, patron=patron)
        staff = session.scalar(select(StaffUser).where(StaffUser.email == email))
        return service.create_one_time_link(session, purpose="reset", now=FIXED_NOW, hours=24, staff=staff)


@dataclass(frozen=True)
class PageCase:
    """One page (or page state), reached the way a person would. ``who`` logs in first (a card number or a
    staff email); ``status`` is the expected HTTP status."""

    name: str
    open: Callable[[Any, Any], Any]
    who: str | None = None
    status: int = 200
    has_error_summary: bool = False


def _goto(path: str) -> Callable[[Any, Any], Any]:
    return lambda page, server: page.goto(path)


def _login_with_empty_form(page: Any, server: Any) -> Any:
    page.goto("/login")
    with page.expect_navigation() as nav:
        page.locator("main form button[type=submit]").click()
    return nav.value


def _reset_sent(page: Any, server: Any) -> Any:
    page.goto("/reset")
    page.fill("#identifier", "2000000003")
    with page.expect_navigation() as nav:
        page.locator("main form button[type=submit]").click()
    return nav.value


def _reset_form(**who: str) -> Callable[[Any, Any], Any]:
    return lambda page, server: page.goto(f"/reset/{reset_token(server.app, **who)}")


PATRON = "2000000003"
PAGES = [
    PageCase("home", _goto("/")),
    PageCase("patron-login", _goto("/login")),
    PageCase("patron-login-with-errors", _login_with_empty_form, has_error_summary=True),
    PageCase("staff-login", _goto("/staff/login")),
    PageCase("reset-request", _goto("/reset")),
    PageCase("reset-sent", _reset_sent),
    PageCase("reset-form-patron", _reset_form(card=PATRON)),
    PageCase("reset-form-staff", _reset_form(email="editor@demo.kuulo.test")),
    PageCase("reset-invalid", _goto("/reset/no-such-link"), status=410),
    PageCase("patron-account", _goto("/account"), who=PATRON),
    PageCase("change-pin", _goto("/account/pin"), who=PATRON),
    PageCase("change-password", _goto("/account/password"), who=PATRON),
    PageCase("staff-home", _goto("/staff"), who=ADMIN),
    PageCase("staff-password", _goto("/staff/password"), who=ADMIN),
    PageCase("audit-log", _goto("/staff/audit"), who=ADMIN),
    PageCase("letters", _goto("/staff/letters"), who=LIBRARIAN),
    PageCase("forbidden", _goto("/staff/audit"), who=LIBRARIAN, status=403),
    PageCase("not-found", _goto("/no-such-page"), status=404),
]

# The first element that the Tab key reaches, in document order (what a keyboard user meets first).
FIRST_TABBABLE_JS = """() => {
  const sel = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]),'
            + ' textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const el = [...document.querySelectorAll(sel)].find(e => e.tabIndex >= 0 && getComputedStyle(e).visibility !== 'hidden'
                                                        && getComputedStyle(e).display !== 'none');
  return el ? el.outerHTML : null;
}"""


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_page_is_accessible(make_context: Any, login_state: Any, live_server: Any, case: PageCase,
                            lang: str) -> None:
    page = make_context(storage_state=login_state(case.who) if case.who else None).new_page()
    set_language(page, lang)
    response = case.open(page, live_server)
    assert response is not None and response.status == case.status, f"{case.name}: {page.url}"
    if case.who:
        assert page.locator("form[action$='/logout']").count() == 1, f"logged in as {case.who}"

    axe_check(page)

    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator("h1").count() == 1, "exactly one h1"
    assert page.locator("h1").inner_text().strip()
    title = page.title()
    assert title.endswith(" – Kuulo") and any(ch.isalpha() for ch in title.removesuffix(" – Kuulo")), \
        f"the <title> must say what the page is: {title!r}"
    for role in ("banner", "main", "contentinfo"):
        assert page.get_by_role(role).count() == 1, f"one {role} landmark"
    assert page.get_by_role("navigation").count() >= 1, "a navigation landmark"

    skip_link = page.locator("a.skip-link")
    assert skip_link.get_attribute("href") == "#main"
    assert "skip-link" in (page.evaluate(FIRST_TABBABLE_JS) or ""), "the skip link is the first Tab stop"
    if case.has_error_summary:
        # The error summary takes focus on load, so Tab continues from it: check the summary instead.
        assert page.evaluate("document.activeElement.id") == "error-summary"
        return
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')"), "Tab reaches the skip link first"
    box = skip_link.bounding_box()
    viewport = page.viewport_size
    assert box and 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"] and 0 <= box["y"] < viewport["height"], \
        "the focused skip link is visible"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main", "the skip link moves focus to main"
    if page.locator("main").evaluate(
            "m => !!m.querySelector('a[href], button, input:not([type=hidden]), select, textarea')"):
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('main')"), "the next Tab stays in main"


def test_axe_check_catches_violations_under_the_content_security_policy(web_page: Any) -> None:
    """The checker itself: axe-core runs under Kuulo's CSP and its report names the rule and the element."""
    page = web_page
    page.goto("/")
    page.evaluate("""() => {
      const img = document.createElement('img'); img.src = '/static/kuulo.css'; img.id = 'no-alt';
      document.querySelector('main').append(img);
    }""")
    with pytest.raises(pytest.fail.Exception) as failure:
        axe_check(page)
    assert "image-alt" in str(failure.value) and "#no-alt" in str(failure.value)
