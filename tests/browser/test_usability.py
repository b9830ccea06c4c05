"""Issue 16 in real Chromium: staff tables keep their words whole at 320 CSS px (the region scrolls instead),
and a patron borrows (the success message takes focus), sees when renewing becomes possible, and returns an
audiobook through a confirmation page (a plain form: tests/lending/test_usability.py) — axe-clean in fi, sv and en."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.support import ZOOMS, assert_no_horizontal_scrolling, axe_check, db_session, set_language

EMILY = "2000000003"
# Words (hyphen-free) whose letters are spread over more than one line inside table cells.
BROKEN_WORDS_JS = """(selector) => {
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      for (const m of node.data.matchAll(/[^\\s\\-–\\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        if (range.getClientRects().length > 1) broken.push(m[0]);
      }
    }
  }
  return broken.slice(0, 10);
}"""


@pytest.mark.parametrize("lang", ["fi", "en"])
@pytest.mark.parametrize(("path", "who"), [("/staff/clubs", "producer@demo.kuulo.test"),
                                           ("/staff/institutions/applications", "reviewer@demo.kuulo.test")])
def test_staff_tables_keep_words_whole_at_320_px(make_context: Any, login_state: Any, path: str, who: str,
                                                 lang: str) -> None:
    page = make_context(storage_state=login_state(who), **ZOOMS["400-percent-reflow"]).new_page()
    set_language(page, lang)
    page.goto(path)
    assert page.locator("main .table-scroll table").count() >= 1, "the table is in its scroll region"
    assert page.evaluate(BROKEN_WORDS_JS, "main table th, main table td") == []
    assert_no_horizontal_scrolling(page)  # the region scrolls, not the page


def _a_book(app: Any) -> tuple[int, str]:
    from app.lending.models import Audiobook

    with db_session(app) as s:
        book = s.scalar(select(Audiobook).where(Audiobook.language == "en"))
        return book.id, book.title


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_borrow_is_announced_and_return_asks_first(make_context: Any, login_state: Any, live_server: Any,
                                                   lang: str) -> None:
    book, title = _a_book(live_server.app)
    page = make_context(storage_state=login_state(EMILY)).new_page()
    set_language(page, lang)
    page.goto(f"/library/books/{book}")
    with page.expect_navigation():
        page.locator("main form[action$='/borrow'] button").click()
    flashes = page.locator(".flashes")
    assert flashes.get_attribute("role") == "status" and flashes.get_attribute("autofocus") is not None
    assert page.locator(f".flashes span[lang=en]:text-is('{title}')").count() == (0 if lang == "en" else 1)

    page.goto("/library/loans")
    assert page.locator(f"main form[action$='/books/{book}/renew']").count() == 0  # a fresh loan: not yet
    assert "14" in page.locator("main table tbody").inner_text()  # "… from 14 Dec 2026" / 14.12.2026
    axe_check(page)
    with page.expect_navigation():
        page.locator(f"main a[href$='/books/{book}/return']").click()
    assert page.locator("h1").count() == 1
    axe_check(page)
    page.goto("/library/loans")  # looking at the confirmation returned nothing
    assert page.locator(f"main a[href$='/books/{book}/return']").count() == 1
    page.locator(f"main a[href$='/books/{book}/return']").click()
    with page.expect_navigation():
        page.locator("main form[action$='/return'] button[type=submit]").click()
    assert page.url.endswith("/library/loans")
    assert page.locator(f"main a[href$='/books/{book}/return']").count() == 0
