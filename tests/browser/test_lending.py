"""The web library in real Chromium [002, issue 7]: the catalogue (with and without a search, with and without
results), a book page, the loans page (with and without loans) and the player pass axe-core (WCAG 2.1 A/AA)
with one h1 and the right <html lang> in fi/sv/en; the player's controls work with the keyboard and its
shortcuts are announced in a live region; and a patron borrows a book and opens the player with the keyboard
only."""
from __future__ import annotations

from dataclasses import dataclass
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
    skip_to_main,
    tab_to,
)
from tests.conftest import FIXED_NOW

MAIJA, SVEN, MATTI = "2000000001", "2000000002", "2000000004"  # no loans; one loan (the demo's); borrows


@dataclass(frozen=True)
class Books:
    loaned: int  # Sven's loan in the demo data
    other: int  # a book Matti borrows
    word: str  # a word of a title, for a search with results


_books: dict[int, Books] = {}


def books(app: Any) -> Books:
    from app.accounts.models import Patron
    from app.lending import service
    from app.lending.models import Audiobook

    if id(app) not in _books:
        with db_session(app) as s:
            sven = s.scalar(select(Patron).where(Patron.card_number == SVEN))
            loaned = [loan.audiobook_id for loan in service.active_loans(s, sven.id, FIXED_NOW)]
            assert loaned, "the demo gives Sven a loan"
            all_books = list(s.scalars(select(Audiobook).order_by(Audiobook.id)))
            other = next(b for b in all_books if b.id != loaned[0])
            _books[id(app)] = Books(loaned[0], other.id, max(other.title.split(), key=len))
    return _books[id(app)]


def _to(make_path: Any) -> Any:
    return lambda page, server: page.goto(make_path(books(server.app)))


PAGES = [
    PageCase("catalogue", goto("/library"), expect="ul.book-list li"),
    PageCase("catalogue-patron", goto("/library"), who=MAIJA, expect="form[action$='/borrow'] button"),
    PageCase("search", _to(lambda b: f"/library?q={b.word}"), who=MAIJA, expect="ul.book-list li"),
    PageCase("search-no-results", goto("/library?q=no+such+book+at+all"), who=MAIJA, expect="input#q"),
    PageCase("book", _to(lambda b: f"/library/books/{b.other}"), expect="dl.facts"),
    PageCase("book-on-loan", _to(lambda b: f"/library/books/{b.loaned}"), who=SVEN,
             expect="a[href$='/listen']"),
    PageCase("loans", goto("/library/loans"), who=SVEN, expect="main table tbody tr"),
    PageCase("loans-none", goto("/library/loans"), who=MAIJA),
    PageCase("player", _to(lambda b: f"/library/books/{b.loaned}/listen"), who=SVEN,
             expect="#player-controls:not([hidden]) #play-pause"),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_lending_page_is_accessible(make_context: Any, login_state: Any, live_server: Any, case: PageCase,
                                    lang: str) -> None:
    check_page(make_context, login_state, live_server, case, lang)


# ---------------------------------------------------------------- keyboard only

def announced(page: Any, text: str) -> None:
    page.wait_for_function("t => document.getElementById('player-status').textContent.includes(t)", arg=text,
                           timeout=5000)


def test_player_works_with_the_keyboard(make_context: Any, login_state: Any, live_server: Any) -> None:
    book = books(live_server.app).loaned
    page = make_context(storage_state=login_state(SVEN), locale="en-GB").new_page()
    page.goto(f"/library/books/{book}/listen?track=1&t=0")
    live = page.locator("#player-status")
    assert live.get_attribute("aria-live") == "polite" and live.get_attribute("role") == "status"
    assert "Alt+Shift+P" in page.locator("#audio").evaluate(
        "a => document.getElementById(a.getAttribute('aria-describedby')).textContent")

    skip_to_main(page)
    button = tab_to(page, lambda info: info["id"] == "play-pause")
    assert button["text"] == "Play"
    page.keyboard.press("Enter")
    announced(page, "Playing")
    assert page.locator("#play-pause").inner_text() == "Pause"
    page.keyboard.press("Space")
    announced(page, "Paused")
    assert page.evaluate("document.getElementById('audio').paused")

    tab_to(page, lambda info: info["text"].startswith("Forward"))
    page.keyboard.press("Enter")
    announced(page, "Forward 30 seconds")

    tab_to(page, lambda info: info["id"] == "speed")
    page.keyboard.press("ArrowDown")
    announced(page, "Speed 1.25 times")
    assert page.evaluate("document.getElementById('audio').playbackRate") == 1.25

    chapter = tab_to(page, lambda info: "chapter" in info["cls"].split() and info["tag"] == "a")
    page.keyboard.press("Enter")
    announced(page, f"Chapter: {chapter['text'].strip()}")
    assert path_of(page).endswith("/listen"), "a chapter link plays in place"
    assert_focus_visible(page)

    # The shortcuts work wherever the focus is, and each says what it did.
    page.keyboard.press("Alt+Shift+W")
    announced(page, " of ")
    page.keyboard.press("Alt+Shift+ArrowDown")
    announced(page, "Speed 1 times")
    playing = not page.evaluate("document.getElementById('audio').paused")  # a chapter link starts playing
    for message in (["Paused", "Playing"] if playing else ["Playing", "Paused"]):
        page.keyboard.press("Alt+Shift+P")
        announced(page, message)
        assert page.locator("#play-pause").inner_text() == ("Pause" if message == "Playing" else "Play")


def test_patron_borrows_and_opens_the_player_with_the_keyboard_only(make_context: Any, login_state: Any,
                                                                     live_server: Any) -> None:
    from app.accounts.models import Patron
    from app.lending import service

    book = books(live_server.app).other
    page = make_context(storage_state=login_state(MATTI), locale="en-GB").new_page()
    page.goto("/library")
    skip_to_main(page)
    tab_to(page, lambda info: (info["href"] or "").endswith(f"/library/books/{book}"), limit=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == f"/library/books/{book}"

    skip_to_main(page)
    button = tab_to(page, lambda info: info["tag"] == "button" and info["text"].startswith("Borrow"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == f"/library/books/{book}/listen"
    assert "You borrowed" in page.locator(".flashes").inner_text(), button
    skip_to_main(page)
    tab_to(page, lambda info: info["id"] == "play-pause")
    page.keyboard.press("Enter")
    announced(page, "Playing")
    page.keyboard.press("Enter")
    announced(page, "Paused")
    with db_session(live_server.app) as session:
        matti = session.scalar(select(Patron).where(Patron.card_number == MATTI))
        assert service.active_loan(session, matti.id, book, FIXED_NOW) is not None


@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_page_reflows_at_400_percent_zoom(make_context: Any, login_state: Any, live_server: Any,
                                          case: PageCase) -> None:
    page = make_context(storage_state=login_state(case.who) if case.who else None, locale="en-GB",
                        **ZOOMS["400-percent-reflow"]).new_page()
    case.open(page, live_server)
    assert_no_horizontal_scrolling(page)


def test_a_producer_withdraws_and_returns_a_book_with_the_keyboard(make_context: Any, login_state: Any,
                                                                   live_server: Any) -> None:
    page = make_context(storage_state=login_state("producer@demo.kuulo.test"), locale="en-GB").new_page()
    page.goto("/staff/audiobooks")
    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "input" and info["id"] == "q")
    page.keyboard.type("saga")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    skip_to_main(page)
    tab_to(page, lambda info: info["text"] == "Withdraw")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "was withdrawn" in page.locator(".flashes").inner_text()
    assert "En liten saga" not in page.context.new_page().goto(live_server.base_url + "/library").text()
    skip_to_main(page)
    tab_to(page, lambda info: info["text"] == "Return to the catalogue")
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "in the catalogue again" in page.locator(".flashes").inner_text()
