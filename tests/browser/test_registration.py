"""Remote registration in real Chromium [002, issue 4]: every page of the domain — the librarian's form (empty,
with errors, a child's form without the guardian), the result of a registration, the "already registered" page
after a double submit, the search (empty, by identity code, by card number, not found), the registration record
and the patron's /account/my-data — passes axe-core (WCAG 2.1 A/AA) with one h1 and the right <html lang> in
fi/sv/en; and a librarian registers a patron with the keyboard only."""
from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.support import (
    LANGUAGES,
    ZOOMS,
    PageCase,
    assert_focus_visible,
    assert_no_horizontal_scrolling,
    check_page,
    db_session,
    goto,
    path_of,
    press,
    skip_to_main,
    tab_to,
)

LIBRARIAN = "librarian@demo.kuulo.test"
MAIJA = "2000000001"
AINO_CODE = "150385-226A"  # registered by the demo librarian in the demo data
AINO_EMAIL = "aino.esimerkki@demo.kuulo.test"
CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_individual = itertools.count(402)


def new_identity_code(birth: str = "010190", century: str = "-") -> str:
    """A valid Finnish identity code not used before in this test session (``birth`` as DDMMYY)."""
    number = f"{next(_individual):03d}"
    return f"{birth}{century}{number}{CHECK_CHARACTERS[int(birth + number) % 31]}"


def fill_registration(page: Any, code: str, *, child: bool = False) -> None:
    page.goto("/staff/registrations/new")
    for name, value in (("given_names", "Ville"), ("surname", "Testaaja"), ("national_id", code),
                        ("email", f"ville.{code.lower()}@demo.kuulo.test"), ("street_address", "Kirjastotie 1"),
                        ("postal_code", "00100"), ("city", "Helsinki")):
        page.fill(f"#{name}", value)
    page.check("input[name=eligibility_basis][value=visual_impairment]")
    if child:
        assert "A" in code, "a child's code"


def _submit(page: Any) -> Any:
    with page.expect_navigation() as nav:
        page.locator("main form[method=post] button[type=submit]").last.click()
    return nav.value


def _empty_with_errors(page: Any, server: Any) -> Any:
    page.goto("/staff/registrations/new")
    return _submit(page)


def _child_without_guardian(page: Any, server: Any) -> Any:
    fill_registration(page, new_identity_code("010515", "A"), child=True)
    return _submit(page)


def _registered(page: Any, server: Any) -> Any:
    fill_registration(page, new_identity_code())
    return _submit(page)


def _already_registered(page: Any, server: Any) -> Any:
    fill_registration(page, AINO_CODE)  # the demo's registration: the form sent a second time
    return _submit(page)


def _search_code(code: str) -> Any:
    def open_(page: Any, server: Any) -> Any:
        page.goto("/staff/registrations/search")
        page.fill("#code-national_id", code)
        with page.expect_navigation() as nav:
            page.locator("form[action$='/identity-code'] button[type=submit]").click()
        return nav.value
    return open_


def _search_card(card: str) -> Any:
    def open_(page: Any, server: Any) -> Any:
        page.goto("/staff/registrations/search")
        page.fill("#card-card_number", card)
        with page.expect_navigation() as nav:
            page.locator("form[action$='/card'] button[type=submit]").click()
        return nav.value
    return open_


def aino(app: Any) -> Any:
    from app.accounts.models import Patron

    with db_session(app) as session:
        patron = session.scalar(select(Patron).where(Patron.email == AINO_EMAIL))
        return patron.id, patron.card_number


def _record(page: Any, server: Any) -> Any:
    return page.goto(f"/staff/registrations/{aino(server.app)[0]}")


def _search_aino_card(page: Any, server: Any) -> Any:
    return _search_card(aino(server.app)[1])(page, server)


PAGES = [
    PageCase("form", goto("/staff/registrations/new"), who=LIBRARIAN, expect="input#national_id"),
    PageCase("form-with-errors", _empty_with_errors, who=LIBRARIAN, status=422, has_error_summary=True,
             expect="#error-summary a[href='#given_names']"),
    PageCase("form-child-without-guardian", _child_without_guardian, who=LIBRARIAN, status=422,
             has_error_summary=True, expect="#error-summary a[href='#guardian_name']"),
    PageCase("registered", _registered, who=LIBRARIAN, expect="main .flash-success"),
    PageCase("already-registered", _already_registered, who=LIBRARIAN,
             expect="main a[href*='/staff/registrations/']"),
    PageCase("search", goto("/staff/registrations/search"), who=LIBRARIAN, expect="input#code-national_id"),
    PageCase("search-by-code", _search_code(AINO_CODE), who=LIBRARIAN, expect="#result-title"),
    PageCase("search-by-code-with-errors", _search_code(""), who=LIBRARIAN, status=422, has_error_summary=True),
    PageCase("search-by-code-not-found", _search_code(new_identity_code("020202")), who=LIBRARIAN,
             expect="#result-title"),
    PageCase("search-by-card", _search_aino_card, who=LIBRARIAN, expect="main a[href*='/staff/registrations/']"),
    PageCase("search-by-card-not-found", _search_card("2999999999"), who=LIBRARIAN, expect="#result-title"),
    PageCase("record", _record, who=LIBRARIAN, expect="dl.facts"),
    PageCase("my-data", goto("/account/my-data"), who=MAIJA, expect="a[href$='/account/my-data.json']"),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_registration_page_is_accessible(make_context: Any, login_state: Any, live_server: Any, case: PageCase,
                                         lang: str) -> None:
    check_page(make_context, login_state, live_server, case, lang)


def test_search_states_say_what_was_found(make_context: Any, login_state: Any, live_server: Any) -> None:
    page = make_context(storage_state=login_state(LIBRARIAN), locale="en-GB").new_page()
    _search_card("2999999999")(page, live_server)
    assert "No patron has this library card number." in page.locator("main [role=status]").inner_text()
    _already_registered(page, live_server)
    text = page.locator("main [role=status]").inner_text()
    assert "Already registered on" in text and "by " in text and aino(live_server.app)[1] in text


# ---------------------------------------------------------------- keyboard only

def test_librarian_registers_a_patron_with_the_keyboard_only(make_context: Any, login_state: Any,
                                                              live_server: Any) -> None:
    from app.accounts.models import Patron

    code = new_identity_code("240890")
    email = f"kalle.{code.lower()}@demo.kuulo.test"
    page = make_context(storage_state=login_state(LIBRARIAN), locale="en-GB").new_page()

    def type_into(field_id: str, text: str) -> None:
        assert press(page, "Tab")["id"] == field_id
        page.keyboard.type(text)

    def fill_form() -> None:
        page.goto("/staff/registrations/new")
        skip_to_main(page)
        for field_id, text in (("given_names", "Kalle"), ("surname", "Näppäimistö"), ("national_id", code),
                               ("email", email)):
            type_into(field_id, text)
        assert press(page, "Tab")["id"] == "phone"  # optional: left empty
        for field_id, text in (("street_address", "Kirjastotie 2"), ("postal_code", "00100"), ("city", "Helsinki")):
            type_into(field_id, text)
        language = press(page, "Tab")
        assert language["name"] == "language" and language["type"] == "radio", language  # Finnish, chosen already
        basis = press(page, "Tab")
        assert basis["name"] == "eligibility_basis" and basis["type"] == "radio", basis
        page.keyboard.press("Space")  # nothing chosen yet: Space chooses the focused basis
        assert_focus_visible(page)
        assert page.locator("input[name=eligibility_basis]:checked").count() == 1
        button = tab_to(page, lambda info: info["tag"] == "button" and info["type"] == "submit")
        assert button["text"] == "Register the patron", button
        with page.expect_navigation():
            page.keyboard.press("Enter")

    fill_form()
    assert path_of(page) == "/staff/registrations/new"
    assert page.locator("h1").inner_text() == "Patron registered"
    with db_session(live_server.app) as session:
        card = session.scalar(select(Patron.card_number).where(Patron.email == email))
    assert card and f"Library card number: {card}." in page.locator("main [role=status]").inner_text()

    fill_form()  # the same person sent again: shown, not registered twice, and not an error
    assert page.locator("h1").inner_text() == "Already registered"
    assert page.locator("#error-summary").count() == 0
    status = page.locator("main [role=status]").inner_text()
    assert "Already registered on" in status and f"Library card number: {card}." in status
    with db_session(live_server.app) as session:
        assert len(session.scalars(select(Patron).where(Patron.email == email)).all()) == 1


@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_page_reflows_at_400_percent_zoom(make_context: Any, login_state: Any, live_server: Any,
                                          case: PageCase) -> None:
    page = make_context(storage_state=login_state(case.who) if case.who else None, locale="en-GB",
                        **ZOOMS["400-percent-reflow"]).new_page()
    case.open(page, live_server)
    assert_no_horizontal_scrolling(page)
