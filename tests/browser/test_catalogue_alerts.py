"""Issue 17's "Done when", in real Chromium against the test database (SQLite, or PostgreSQL with
KUULO_TEST_DATABASE_URL): a librarian imports a MARC file with the CLI; a patron finds a title by a word of its
subject, sees where a copy is, places a hold for pickup at her branch and saves the search with a weekly alert
(keyboard only); a new matching record is imported, the alert job runs and the email arrives at the SMTP server
— and its stop link works without logging in. A second journey keeps a favourites list. Every page passes
axe-core (WCAG 2.1 AA)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import scheduler
from app.accounts.models import Patron
from app.catalogue import marc
from app.catalogue.lists_models import FavouriteEntry, FavouriteList, SavedSearch
from tests.browser.conftest import LiveServer
from tests.browser.support import (
    ZOOMS,
    assert_no_horizontal_scrolling,
    axe_check,
    login_patron,
    skip_to_main,
    tab_to,
)
from tests.catalogue.helpers import book, run_import, write
from tests.circulation import helpers
from tests.conftest import FIXED_NOW


@pytest.fixture()
def app_config(app_config: dict[str, Any], smtp: Any) -> dict[str, Any]:
    """The suite's database (SQLite or PostgreSQL), with the real forms' CSRF tokens and mail to the SMTP sink."""
    return {**app_config, "WTF_CSRF_ENABLED": True, "SECRET_KEY": "browser-alerts", "SMTP_PORT": smtp.port}


@pytest.fixture()
def server(app: Any) -> Iterator[LiveServer]:
    live = LiveServer(app)
    app.config["BASE_URL"] = live.base_url
    live.start()
    yield live
    live.stop()


@pytest.fixture()
def browser_context(chromium_browser: Any, server: LiveServer) -> Iterator[Any]:
    contexts: list[Any] = []

    def make() -> Any:
        ctx = chromium_browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 800})
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def librarian_imports(app: Any, path: Path) -> None:
    result = run_import(app, str(path))
    assert result.exit_code == 0, result.output


def world(app: Any, sm: Any, tmp_path: Path) -> str:
    with app.app_context(), sm.begin() as s:
        helpers.build_libraries(s, FIXED_NOW)
        patron_id = helpers.borrower(s, FIXED_NOW, "lumme", email="liisa@example.fi")  # home branch: mikkeli
        card = s.get(Patron, patron_id).card_number
    librarian_imports(app, write(
        tmp_path / "export.mrc",
        book("1001", "Jäiden aika", author="Lehtolainen, Leena", isbn="9789510000028",
             subjects=("merimetsot", "saaristo"), year=2021,
             holdings=(marc.Holding("B1", "savonlinna", "", "28.00", "Aikuisten romaanit", ""),)),
        book("1002", "Metsän kirja", author="Puu, Paavo", subjects=("metsät",), year=2015,
             holdings=(marc.Holding("B2", "mikkeli", "", "25.00", "", ""),))))
    return card


def press_enter_on(page: Any, locator: Any) -> None:
    locator.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.browser
def test_done_when_find_hold_save_search_and_get_the_alert(app, sm, smtp, tmp_path, browser_context):
    card = world(app, sm, tmp_path)
    page = browser_context().new_page()
    login_patron(page, card)
    assert page.url.endswith("/account")

    # finds the title by a word of its subject, with the keyboard
    page.goto("/catalogue")
    page.locator("#q").focus()
    page.keyboard.type("merimetso")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "1 record found" in page.locator("main [role=status]").first.inner_text()
    axe_check(page)
    press_enter_on(page, page.get_by_role("link", name="Jäiden aika"))
    assert page.locator("h1").inner_text() == "Jäiden aika"

    # sees where a copy is, and places a hold for pickup at her own branch
    table = page.locator("table").inner_text()
    assert "Aikuisten romaanit" in table and "1 on the shelf" in table
    assert page.locator("#pickup_branch").input_value() == "mikkeli"
    axe_check(page)
    press_enter_on(page, page.get_by_role("button", name="Place a hold"))
    assert "Hold placed" in page.locator(".flashes[role=status]").inner_text()

    # saves the search with a weekly alert
    page.goto("/catalogue?q=merimetso")
    press_enter_on(page, page.get_by_role("link", name="Save this search and get alerts of new titles"))
    axe_check(page)
    assert page.locator("#frequency-2").is_checked()  # weekly is offered first
    page.locator("#name").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("Merimetsot")
    press_enter_on(page, page.get_by_role("button", name="Save the search"))
    assert "New titles will come to your email weekly" in page.locator(".flashes[role=status]").inner_text()
    assert "Merimetsot" in page.locator("h2").all_inner_texts()
    axe_check(page)
    with sm() as s:
        assert s.scalar(select(SavedSearch.frequency)) == "weekly"

    # the librarian imports a new matching record (and one that does not match); the alert job runs
    librarian_imports(app, write(tmp_path / "new.mrc",
                                 book("1003", "Merimetsojen kesä", author="Lintu, Lauri", subjects=("merimetsot",),
                                      year=2026),
                                 book("1004", "Kalastajan opas", subjects=("kalastus",), year=2026)))
    run = scheduler.run_job(app, "catalogue-search-alerts", FIXED_NOW)
    assert run.status == "ok" and "1 alerts queued" in run.summary
    scheduler.run_job(app, "deliver-outbox", FIXED_NOW)
    [mail] = smtp.messages
    assert mail["To"] == "liisa@example.fi"
    assert mail["Subject"] == "1 new record for your search “Merimetsot”"
    body = mail.get_content()
    assert "Merimetsojen kesä" in body and "Kalastajan opas" not in body and "Jäiden aika" not in body
    # a rerun sends nothing twice
    scheduler.run_job(app, "catalogue-search-alerts", FIXED_NOW)
    scheduler.run_job(app, "deliver-outbox", FIXED_NOW)
    assert len(smtp.messages) == 1

    # the email's links work: the record, and the stop link without logging in
    record_link = re.search(r"(http://127\.0\.0\.1:\d+/catalogue/records/\d+)", body).group(1)
    page.goto(record_link)
    assert page.locator("h1").inner_text() == "Merimetsojen kesä"
    stop_link = re.search(r"(http://127\.0\.0\.1:\d+/catalogue/saved-searches/stop/\S+)", body).group(1)
    stranger = browser_context().new_page()
    stranger.goto(stop_link)
    assert "Merimetsot" in stranger.locator("main").inner_text()
    axe_check(stranger)
    press_enter_on(stranger, stranger.get_by_role("button", name="Stop the alerts"))
    assert "You will get no more alerts for the saved search “Merimetsot”" in \
        stranger.locator("main [role=status]").inner_text()
    with sm() as s:
        assert s.scalar(select(SavedSearch.frequency)) == "none"
    page.goto("/catalogue/saved-searches")
    assert page.locator("#s1-frequency-0").is_checked() or page.locator("input[value=none]").first.is_checked()
    axe_check(page)


@pytest.mark.browser
def test_a_favourites_list_kept_with_the_keyboard(app, sm, smtp, tmp_path, browser_context):
    card = world(app, sm, tmp_path)
    page = browser_context().new_page()
    login_patron(page, card)
    page.goto("/catalogue?q=kirja")
    skip_to_main(page)
    tab_to(page, lambda info: "Save to favourites" in str(info.get("text") or ""))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Saved to your list “My favourites”." in page.locator(".flashes[role=status]").inner_text()
    axe_check(page)

    page.goto("/catalogue/lists")
    axe_check(page)
    page.locator("#name").focus()
    page.keyboard.type("Kesälukemista")
    page.locator("#public").focus()
    page.keyboard.press("Space")
    press_enter_on(page, page.get_by_role("button", name="Create the list"))
    assert "The list “Kesälukemista” was created." in page.locator(".flashes[role=status]").inner_text()
    assert "0 titles on the list" in page.locator("main p[role=status]").inner_text()
    share = page.locator("#share-link").input_value()
    axe_check(page)

    page.goto("/catalogue/lists")
    press_enter_on(page, page.get_by_role("link", name="My favourites"))
    assert "1 title on the list" in page.locator("main p[role=status]").inner_text()
    axe_check(page)
    page.locator("input[name=entry]").first.focus()
    page.keyboard.press("Space")
    page.locator("#target").select_option(label="Kesälukemista")
    press_enter_on(page, page.get_by_role("button", name="Copy the chosen titles"))
    assert "1 title was copied to “Kesälukemista”." in page.locator(".flashes[role=status]").inner_text()
    press_enter_on(page, page.get_by_role("link", name="Edit the note and keywords").first)
    axe_check(page)
    page.locator("#note").fill("Mökille")
    page.locator("#keywords").fill("kesä, metsä")
    press_enter_on(page, page.get_by_role("button", name="Save the note and keywords"))
    assert "Mökille" in page.locator("main").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the list as RIS")).click()
    ris = Path(download.value.path()).read_bytes().decode("utf-8")
    assert ris.startswith("TY  - BOOK\r\nTI  - Metsän kirja\r\n") and "N1  - Mökille" in ris

    stranger = browser_context().new_page()
    stranger.goto(share)
    assert "Kesälukemista" in stranger.locator("h1").inner_text()
    assert "Metsän kirja" in stranger.locator("main").inner_text()
    axe_check(stranger)
    # at 400 % zoom (320 CSS pixels wide) the pages reflow without horizontal scrolling
    page.set_viewport_size(ZOOMS["400-percent-reflow"]["viewport"])
    for path in ("/catalogue/lists", page.url.split("#")[0], "/catalogue/saved-searches", "/catalogue?q=kirja"):
        page.goto(path)
        assert_no_horizontal_scrolling(page)
    with sm() as s:
        names = {lst.name for lst in s.scalars(select(FavouriteList))}
        assert names == {"My favourites", "Kesälukemista"}
        assert len(s.scalars(select(FavouriteEntry)).all()) == 2
