"""Zoom and reflow (WCAG 1.4.4, 1.4.10): at 200 % zoom — a 1280 px window seen as 640 CSS px, drawn at device
scale 2 — and at the 320 CSS px of 400 % zoom, pages scroll only vertically and the login form still works."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.support import PIN, ZOOMS, assert_no_horizontal_scrolling


@pytest.mark.parametrize("zoom", ZOOMS, ids=list(ZOOMS))
@pytest.mark.parametrize("path", ["/", "/login", "/staff/login"])
def test_no_horizontal_scrolling_when_zoomed(make_context: Any, zoom: str, path: str) -> None:
    page = make_context(locale="en-GB", **ZOOMS[zoom]).new_page()
    page.goto(path)
    assert_no_horizontal_scrolling(page)


@pytest.mark.parametrize("zoom", ZOOMS, ids=list(ZOOMS))
def test_login_form_works_when_zoomed(make_context: Any, zoom: str) -> None:
    page = make_context(locale="en-GB", **ZOOMS[zoom]).new_page()
    page.goto("/login")
    page.get_by_label("Library card number").fill("2000000005")
    page.get_by_label("PIN or password").fill("0000")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()
    assert page.locator("#error-summary").is_visible()  # the error state reflows too
    assert_no_horizontal_scrolling(page)
    page.get_by_label("PIN or password").fill(PIN)
    button = page.locator("main form button[type=submit]")
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], "button fits the width"
    with page.expect_navigation():
        button.click()
    assert urlsplit(page.url).path == "/account"
    assert_no_horizontal_scrolling(page)
