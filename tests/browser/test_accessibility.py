"""Every page, in every language, in real Chromium: no axe-core WCAG 2.1 A/AA violations, one h1, the right
<html lang>, the four landmarks, a descriptive <title>, and a skip link that is the first stop of the Tab key
and moves focus to <main>."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.support import LANGUAGES, PageCase, axe_check, check_page
from tests.browser.support import goto as _goto
from tests.conftest import FIXED_NOW

ADMIN = "admin@demo.kuulo.test"
LIBRARIAN = "librarian@demo.kuulo.test"
PRODUCER = "producer@demo.kuulo.test"


def reset_token(app: Any, *, card: str | None = None, email: str | None = None) -> str:
    """A fresh one-time reset link for a demo patron (by card) or staff user (by email)."""
    from app import db
    from app.accounts import service
    from app.accounts.models import Patron, StaffUser

    with app.app_context(), db.get_sessionmaker(app).begin() as session:
        if card:
            patron = session.scalar(select(Patron).where(Patron.card_number == card))
            return service.create_one_time_link(session, purpose="reset", now=FIXED_NOW, hours=24, patron_id=patron.id)
        staff = session.scalar(select(StaffUser).where(StaffUser.email == email))
        return service.create_one_time_link(session, purpose="reset", now=FIXED_NOW, hours=24, staff_user_id=staff.id)


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
    PageCase("api-docs", _goto("/api/docs")),
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
    PageCase("audiobook-catalogue-staff", _goto("/staff/audiobooks"), who=PRODUCER),
    PageCase("forbidden", _goto("/staff/audit"), who=LIBRARIAN, status=403),
    PageCase("not-found", _goto("/no-such-page"), status=404),
]

@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_page_is_accessible(make_context: Any, login_state: Any, live_server: Any, case: PageCase,
                            lang: str) -> None:
    check_page(make_context, login_state, live_server, case, lang)


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
