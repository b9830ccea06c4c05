"""What patrons tripped over (issue 16): days left counted as people count them, a return that asks first,
success messages that take focus, `lang` on titles in another language, If-Range with a weak ETag, and the
home page's way to the institution application."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.lending.models import EbookLoan
from app.lending.service import days_left, lending_policy
from app.lending.streaming import if_range_holds
from app.notify import service as notify
from tests import factories


@pytest.fixture()
def patron(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now, email="usability@test.kuulo").card_number
    assert factories.login_patron(client, card).status_code == 302
    return client


def test_days_left_are_calendar_days_in_the_library_time_zone(now):
    policy = lending_policy()
    until = now + timedelta(days=28)
    assert days_left(until, now, policy) == 28
    assert days_left(until, now + timedelta(minutes=1), policy) == 28  # not "27 days left" a minute later
    assert days_left(until, now + timedelta(days=27, hours=11), policy) == 1  # 23:00 in Helsinki, the day before
    assert days_left(until, now + timedelta(days=27, hours=12, minutes=30), policy) == 0  # 00:30 there: ends today
    late = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 23:30 in Helsinki …
    assert days_left(late + timedelta(hours=1), late, policy) == 1  # … ends at 01:30 tomorrow: 1 day


def test_a_fresh_loan_shows_28_days_left(app, patron, books, now):
    patron.post(f"/library/books/{books['mp3']}/borrow")
    app.config["FAKE_NOW"] = (now + timedelta(minutes=5)).isoformat()
    page = patron.get("/library/loans").text
    assert "28 days left" in page and "27 days left" not in page


def test_return_asks_for_confirmation_without_javascript(patron, books, sm):
    book = books["m4b"]
    patron.post(f"/library/books/{book}/borrow")
    loans = patron.get("/library/loans").text
    assert f'href="/library/books/{book}/return"' in loans and f'action="/library/books/{book}/return"' not in loans
    confirm = patron.get(f"/library/books/{book}/return", headers={"Accept-Language": "fi"})
    assert confirm.status_code == 200
    assert f'action="/library/books/{book}/return"' in confirm.text and 'name="csrf_token"' in confirm.text
    assert '<span lang="en">A Small Voyage</span>' in confirm.text
    with sm.begin() as s:
        assert s.scalar(select(EbookLoan)).ended_at is None  # looking changed nothing
    done = patron.post(f"/library/books/{book}/return", follow_redirects=True)
    assert "You returned A Small Voyage" in done.text  # an English title on an English page needs no mark
    gone = patron.get(f"/library/books/{book}/return", follow_redirects=True)
    assert "You do not have this audiobook on loan" in gone.text


def test_success_message_takes_focus(patron, books):
    page = patron.post(f"/library/books/{books['mp3']}/borrow", follow_redirects=True).text
    assert '<div class="flashes" role="status" tabindex="-1" autofocus>' in page and "You borrowed" in page


def test_titles_and_chapters_in_another_language_are_marked(patron, books):
    book = books["m4b"]  # English
    fi = patron.get(f"/library/books/{book}", headers={"Accept-Language": "fi"}).text
    assert '<h1 lang="en">A Small Voyage</h1>' in fi and '<ol lang="en">' in fi
    en = patron.get(f"/library/books/{book}", headers={"Accept-Language": "en"}).text
    assert "<h1>A Small Voyage</h1>" in en and '<ol lang="en">' not in en
    catalogue = patron.get("/library", headers={"Accept-Language": "sv"}).text
    assert f'<a href="/library/books/{book}" lang="en">A Small Voyage</a>' in catalogue
    assert f'<a href="/library/books/{books["daisy"]}">En liten saga</a>' in catalogue  # Swedish on a Swedish page
    patron.post(f"/library/books/{book}/borrow")
    player = patron.get(f"/library/books/{book}/listen", headers={"Accept-Language": "fi"}).text
    assert '<h1>Kuuntelet: <span lang="en">A Small Voyage</span></h1>' in player
    assert '<span id="now-playing" lang="en">' in player


def test_letters_in_finnish_are_marked_on_swedish_and_english_pages(app, client, sm, now):
    with app.app_context(), sm.begin() as s:
        notify.enqueue(s, key="letter:usability", channel="letter", recipient="Maija M\nKatu 1\n00100 Helsinki",
                       template="reset_link", language="fi",
                       context={"name": "Maija", "link": "http://kuulo.test/reset/abc", "hours": 24}, now=now)
        factories.staff(s, now, "librarian")
    factories.login_staff(client)
    for lang in ("sv", "en"):
        page = client.get("/staff/letters", headers={"Accept-Language": lang}).text
        assert page.count('<pre lang="fi">') == 1 and page.count('<h2 lang="fi">') == 1
    assert '<pre lang="fi">' not in client.get("/staff/letters", headers={"Accept-Language": "fi"}).text


def test_if_range_with_a_weak_etag_gets_the_whole_track(reader, books):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    url = f"/api/v1/books/{books['mp3']}/tracks/1"
    whole = reader.get(url)
    etag = whole.headers["ETag"]
    strong = reader.get(url, Range="bytes=0-9", **{"If-Range": etag})
    assert strong.status_code == 206 and len(strong.data) == 10
    weak = reader.get(url, Range="bytes=0-9", **{"If-Range": f"W/{etag}"})
    assert weak.status_code == 200 and weak.data == whole.data and "Content-Range" not in weak.headers
    other = reader.get(url, Range="bytes=0-9", **{"If-Range": '"another-version"'})
    assert other.status_code == 200 and other.data == whole.data


def test_if_range_rules():
    assert if_range_holds(None, "abc") and if_range_holds('"abc"', "abc")
    assert not if_range_holds('W/"abc"', "abc") and not if_range_holds('"abd"', "abc")
    assert not if_range_holds("Wed, 21 Oct 2026 07:28:00 GMT", "abc")  # a date is not this track's validator


def test_home_page_links_the_institution_application(client):
    for lang in ("fi", "sv", "en"):
        assert 'href="/institutions/apply"' in client.get("/", headers={"Accept-Language": lang}).text
