"""The web library: browse, search, borrow, loans, the player page, streaming and position for the browser."""
from __future__ import annotations

import re

import pytest

from app import gate
from tests import factories
from tests.lending.conftest import Closed


@pytest.fixture()
def patron_card(sm, now):
    with sm.begin() as s:
        return factories.patron(s, now, email="web@test.kuulo").card_number


@pytest.fixture()
def logged_in(client, patron_card):
    assert factories.login_patron(client, patron_card).status_code == 302
    return client


def test_anonymous_visitors_browse_and_search(client, books):
    page = client.get("/library")
    assert page.status_code == 200 and page.text.count("<h1>") == 1
    assert all(title in page.text for title in ("Pieni tarina", "A Small Voyage", "En liten saga"))
    assert "Log in to borrow" in page.text and 'role="search"' in page.text and '<label for="q">' in page.text
    found = client.get("/library?q=voyage")
    assert "A Small Voyage" in found.text and "Pieni tarina" not in found.text
    assert "No audiobooks match" in client.get("/library?q=zzz").text
    book = client.get(f"/library/books/{books['daisy']}")
    assert book.status_code == 200 and "Boken som ville bli lyssnad på" in book.text and "Sven Författare" in book.text


def test_borrow_listen_renew_and_return_in_the_browser(logged_in, books):
    client = logged_in
    book = books["daisy"]
    borrowed = client.post(f"/library/books/{book}/borrow")
    assert borrowed.status_code == 302 and borrowed.headers["Location"].endswith(f"/library/books/{book}/listen")
    player = client.get(f"/library/books/{book}/listen")
    assert player.status_code == 200
    html = player.text
    assert re.search(r'<audio id="audio" controls', html) and "lending-player.js" in html and "<script>" not in html
    assert 'aria-keyshortcuts="Alt+Shift+N"' in html and 'role="status"' in html and 'id="speed"' in html
    assert f'href="/library/books/{book}/listen?track=2&amp;t=2.61"' in html  # chapters work without JavaScript
    loans = client.get("/library/loans")
    assert "En liten saga" in loans.text and "<caption>" in loans.text and "28 days left" in loans.text
    assert f"/library/books/{book}/renew" not in loans.text and "You can renew from 14 Dec 2026" in loans.text
    confirm = client.get(f"/library/books/{book}/return")  # the loans page's Return asks first
    assert f'href="/library/books/{book}/return"' in loans.text and confirm.status_code == 200
    assert 'lang="sv">En liten saga</span>?</h1>' in confirm.text and "Yes, return it now" in confirm.text
    assert client.get("/library/loans").text.count("En liten saga") >= 1  # nothing returned by looking
    returned = client.post(f"/library/books/{book}/return", follow_redirects=True)
    assert 'You returned <span lang="sv">En liten saga</span>' in returned.text
    assert "You have no audiobooks on loan" in returned.text
    assert client.get(f"/library/books/{book}/listen").status_code == 302


def test_player_streams_and_syncs_with_the_session(logged_in, books):
    client = logged_in
    book = books["mp3"]
    assert client.get(f"/library/books/{book}/tracks/1").status_code == 403
    client.post(f"/library/books/{book}/borrow")
    part = client.get(f"/library/books/{book}/tracks/1", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and len(part.data) == 10
    assert client.get(f"/library/books/{book}/position").json == {"position": None}
    saved = client.put(f"/library/books/{book}/position", json={"track": 1, "offset": 7.5,
                                                                  "recorded_at": "2026-11-23T09:59:00Z"})
    assert saved.status_code == 200 and saved.json["position"]["offset"] == 7.5
    assert client.get(f"/library/books/{book}/position").json["position"]["offset"] == 7.5


def test_web_position_needs_the_csrf_header(app, client, patron_card, books):
    factories.login_patron(client, patron_card)  # logged in while the test app skips CSRF …
    app.config["WTF_CSRF_ENABLED"] = True  # … then the real protection is on
    page = client.get("/library")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(f"/library/books/{books['mp3']}/borrow", data={"csrf_token": token})
    url = f"/library/books/{books['mp3']}/position"
    assert client.put(url, json={"track": 1, "offset": 1}).status_code == 400
    assert client.put(url, json={"track": 1, "offset": 1}, headers={"X-CSRFToken": token}).status_code == 200


def test_borrowing_needs_a_patron_login(client, books):
    resp = client.post(f"/library/books/{books['mp3']}/borrow")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/library/loans").status_code == 302


def test_pages_in_finnish_and_swedish(client, books):
    for lang in ("fi", "sv"):
        page = client.get("/library", headers={"Accept-Language": lang})
        assert page.status_code == 200 and f'lang="{lang}"' in page.text


def test_web_library_closure_closes_the_pages_but_not_the_player_stream(logged_in, books, now):
    book = books["mp3"]
    logged_in.post(f"/library/books/{book}/borrow")
    gate.set_provider(Closed(now, "web_library"))
    try:
        assert logged_in.get("/library").status_code == 503
        assert logged_in.get(f"/library/books/{book}/tracks/1", headers={"Range": "bytes=0-9"}).status_code == 206
        assert logged_in.get(f"/library/books/{book}/position").status_code == 200
    finally:
        gate.set_provider(None)


def test_reader_apps_closure_stops_new_loans_in_the_browser_too(logged_in, books, now):
    gate.set_provider(Closed(now, "reader_apps"))
    try:
        assert logged_in.get("/library").status_code == 200
        refused = logged_in.post(f"/library/books/{books['mp3']}/borrow")
        assert refused.status_code == 503 and "Retry-After" in refused.headers and "Maintenance break" in refused.text
    finally:
        gate.set_provider(None)
    assert logged_in.get("/library/loans").text.count("<tr>") == 0
