"""The admin pages in a browser: an administrator adds a librarian, keyboard and axe clean."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import axe_check


@pytest.mark.browser
def test_an_admin_adds_a_librarian_and_the_admin_pages_pass_axe(make_context: Any, login_state: Any) -> None:
    page = make_context(locale="en-GB", storage_state=login_state("admin@demo.kuulo.test")).new_page()
    page.goto("/staff/admin/users/new")
    page.fill("#email", "selma@browser.example")
    page.fill("#name", "Selma Selain")
    page.select_option("#library", index=1)
    page.locator("input[name=roles][value=librarian]").check()
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "selma@browser.example was created" in page.locator("[role=status]").inner_text()
    axe_check(page)
    for path in ("/staff/admin/users?q=selma", "/staff/admin/libraries", "/staff/admin/outbox",
                 "/staff/admin/jobs"):
        page.goto(path)
        axe_check(page)
    assert "Selma Selain" in page.goto("/staff/admin/users?q=selma").text()
