"""A closed service says so before anyone starts: a banner on every page, the closure notice instead of
the form or button, what was typed kept when a form is sent across the start of a break, and a
``Link: rel="status"`` on every 503."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from tests.status.helpers import maintenance, set_clock

EN = {"Accept-Language": "en"}
BREAK = {"fi": "Rekisteröintikatko", "sv": "Registreringsavbrott", "en": "Registration break"}


@pytest.fixture()
def librarian_client(client, sm, now):
    with sm.begin() as s:
        lib = factories.library(s, "tampere", "Tampereen kaupunginkirjasto")
        factories.staff(s, now, "librarian", lib=lib)
    factories.login_staff(client)
    return client


def test_a_registration_break_replaces_the_form_with_the_closure_notice(app, librarian_client, sm, now):
    client = librarian_client
    assert 'name="national_id"' in client.get("/staff/registrations/new", headers=EN).text
    maintenance(app, sm, now, starts_in=timedelta(minutes=-1), hours=2, components=("registration",),
                reads_open=True, titles=BREAK)
    resp = client.get("/staff/registrations/new", headers=EN)
    assert resp.status_code == 200
    assert 'name="national_id"' not in resp.text and "Registration break" in resp.text
    assert "This service is temporarily closed" in resp.text and "Closed: Patron registration." in resp.text


def test_the_banner_shows_an_hour_ahead_and_while_the_break_runs(app, client, sm, now):
    maintenance(app, sm, now, starts_in=timedelta(minutes=90), hours=2, components=("registration", "cd_clubs"),
                titles=BREAK)
    assert "status-banner" not in client.get("/", headers=EN).text
    set_clock(app, now + timedelta(minutes=31))
    page = client.get("/", headers=EN).text
    assert 'aria-labelledby="status-banner-title"' in page and "Registration break" in page
    assert "closes " in page and "Patron registration, CD book clubs" in page and 'href="/status"' in page
    set_clock(app, now + timedelta(minutes=91))
    page = client.get("/catalogue", headers=EN).text
    assert "closed now: Patron registration, CD book clubs." in page
    set_clock(app, now + timedelta(hours=4))
    assert "status-banner" not in client.get("/", headers=EN).text
    assert "status-banner" not in client.get("/status", headers=EN).text  # the status page says it itself


def test_a_form_sent_across_the_start_of_a_break_shows_what_was_typed(app, client, sm, now):
    maintenance(app, sm, now, starts_in=timedelta(minutes=-1), components=("password_reset",), titles=BREAK)
    resp = client.post("/reset", headers=EN, data={"email": "reader@example.test", "note": "line one\nline two",
                                                   "csrf_token": "x", "new_password": "secret-typed"})
    assert resp.status_code == 503 and resp.headers["Cache-Control"] == "no-store"
    assert "reader@example.test" in resp.text and "line one\nline two" in resp.text
    assert "secret-typed" not in resp.text and "What you typed" in resp.text
    assert "Registration break" in resp.text


def test_every_503_links_the_status_page(app, client, sm, now):
    maintenance(app, sm, now, starts_in=timedelta(minutes=-1), components=("password_reset", "registration"))
    html = client.get("/reset", headers=EN)
    api = client.post("/api/v1/registrations", json={})
    for resp in (html, api):
        assert resp.status_code == 503
        assert resp.headers["Link"] == '<http://kuulo.test/status>; rel="status"'


def test_a_borrowing_break_hides_the_borrow_buttons_but_the_page_stays_readable(app, client, sm, now):
    from tests.lending.conftest import MP3_BOOK, ingest_path

    book = ingest_path(app, MP3_BOOK).book_id
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    factories.login_patron(client, card)
    assert f'action="/library/books/{book}/borrow"' in client.get(f"/library/books/{book}", headers=EN).text
    maintenance(app, sm, now, starts_in=timedelta(minutes=-1), components=("web_library",), reads_open=True,
                titles=BREAK)
    page = client.get(f"/library/books/{book}", headers=EN)
    assert page.status_code == 200 and "/borrow" not in page.text and "Closed for a break until" in page.text
