"""Reader apps poll GET /api/v1/loans: one query per poll, an encoded answer remembered per exact rows,
read-only sessions that never wait for a writer, and a token's use recorded after the reads."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.accounts.models import ApiToken
from app.lending.models import Audiobook, EbookLoan


def test_a_changed_book_or_loan_shows_at_once_even_at_the_same_instant(sm, books, reader, now):
    """The clock is frozen in tests, so nothing here changes a timestamp: the remembered answer must
    follow the rows themselves."""
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    (before,) = reader.get("/api/v1/loans").json["loans"]
    with sm.begin() as s:
        s.execute(update(Audiobook).where(Audiobook.id == books["mp3"]).values(title="Uusi nimi"))
    (renamed,) = reader.get("/api/v1/loans").json["loans"]
    assert before["book"]["title"] != "Uusi nimi" and renamed["book"]["title"] == "Uusi nimi"

    with sm.begin() as s:  # into the loan's last week, where renewing is possible
        s.execute(update(EbookLoan).values(until=now + timedelta(days=2)))
    assert reader.post(f"/api/v1/books/{books['mp3']}/renew").status_code == 200
    (renewed,) = reader.get("/api/v1/loans").json["loans"]
    assert (renewed["renewals"], renewed["renewals_left"]) == (1, before["renewals_left"] - 1)

    with sm.begin() as s:
        s.execute(update(EbookLoan).values(until=now + timedelta(days=3)))
    (shortened,) = reader.get("/api/v1/loans").json["loans"]
    assert shortened["until"] == (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_two_patrons_with_the_same_book_get_their_own_loans(books, reader, other_reader):
    reader.post(f"/api/v1/books/{books['m4b']}/borrow")
    other_reader.post(f"/api/v1/books/{books['m4b']}/borrow")
    (mine,) = reader.get("/api/v1/loans").json["loans"]
    (theirs,) = other_reader.get("/api/v1/loans").json["loans"]
    assert mine["book"] == theirs["book"] and mine["id"] != theirs["id"]


def test_a_revoked_or_expired_token_stops_polling_at_once(sm, books, reader, now):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    assert reader.get("/api/v1/loans").status_code == 200
    with sm.begin() as s:
        s.execute(update(ApiToken).values(expires_at=now))
    expired = reader.get("/api/v1/loans")
    assert expired.status_code == 401 and "Bearer" in expired.headers["WWW-Authenticate"]
    with sm.begin() as s:
        s.execute(update(ApiToken).values(expires_at=now + timedelta(days=1), revoked_at=now))
    assert reader.get("/api/v1/loans").status_code == 401
    assert reader.client.get("/api/v1/loans", headers={"Authorization": "Bearer "}).status_code == 401


def test_a_poll_records_the_tokens_use_once_an_hour(sm, books, reader, now):
    with sm.begin() as s:
        s.execute(update(ApiToken).values(last_used_at=None))
    assert reader.get("/api/v1/loans").status_code == 200
    with sm.begin() as s:
        assert s.scalar(select(ApiToken.last_used_at)) == now
        s.execute(update(ApiToken).values(last_used_at=now - timedelta(minutes=59)))
    reader.get("/api/v1/loans")
    with sm.begin() as s:
        assert s.scalar(select(ApiToken.last_used_at)) == now - timedelta(minutes=59)
        s.execute(update(ApiToken).values(last_used_at=now - timedelta(minutes=61)))
    reader.get(f"/api/v1/books/{books['mp3']}/manifest")  # any read-only route records it, after its reads
    with sm.begin() as s:
        assert s.scalar(select(ApiToken.last_used_at)) == now


def test_wrong_pins_over_basic_count_on_a_read_only_route(client, reader):
    wrong = {"Authorization": reader.basic["Authorization"][:-4] + "AAAA"}
    answers = [client.get("/api/v1/loans", headers=wrong).status_code for _ in range(11)]
    assert answers[:9] == [401] * 9 and answers[9:] == [429, 429]  # the 10th wrong PIN locks the card
    locked = client.get("/api/v1/loans", headers=reader.basic)  # even the right PIN waits out the lock
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_polls_do_not_wait_for_a_writer(books, reader, database_url):
    """SQLite: a read-only request begins a deferred transaction, so a long write elsewhere (a nightly
    job) neither blocks nor fails the reader apps' polls, manifests and tracks."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL readers never wait for writers")
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    reader.get("/api/v1/loans")  # the token's use is recorded now, so the polls below only read
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE lending_audiobooks SET title = 'Kesken' WHERE id = ?", (books["mp3"],))
        loans = reader.get("/api/v1/loans")
        assert loans.status_code == 200 and loans.json["loans"][0]["book"]["title"] != "Kesken"
        assert reader.get(f"/api/v1/books/{books['mp3']}/manifest").status_code == 200
        track = loans.json["loans"][0]["links"]["manifest"].replace("/manifest", "/tracks/1")
        assert reader.get(track, Range="bytes=0-9").status_code == 206
    finally:
        writer.execute("ROLLBACK")
        writer.close()
