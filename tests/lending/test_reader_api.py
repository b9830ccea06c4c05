"""The reader-app API over HTTP: a full session, loans and their rules, ranges, positions, outages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import scheduler
from app.lending.models import Audiobook, EbookLoan
from tests.lending.conftest import MP3_BOOK

REL_AUTH = "http://opds-spec.org/auth/document"


def test_full_reader_app_session_on_local_storage(client, books, reader, now):
    full_reader_app_session(client, books, reader, now)


def full_reader_app_session(client, books, reader, now):
    book = books["daisy"]
    assert reader.get("/api/v1/loans").json == {"loans": []}
    borrowed = reader.post(f"/api/v1/books/{book}/borrow")
    assert borrowed.status_code == 201
    assert borrowed.json["until"] == (now + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")

    loans = reader.get("/api/v1/loans")
    assert loans.status_code == 200 and "ETag" in loans.headers
    (loan,) = loans.json["loans"]
    assert loan["book"]["title"] == "En liten saga" and loan["until"] == borrowed.json["until"]
    assert loan["renewals_left"] == 3

    manifest = reader.get(loan["manifest_url"])
    assert manifest.status_code == 200 and manifest.mimetype == "application/audiobook+json"
    tracks = manifest.json["readingOrder"]
    assert len(tracks) == 3 and all(t["type"] == "audio/mpeg" and t["duration"] > 0 for t in tracks)

    first = reader.get(tracks[0]["href"], Range="bytes=0-99")
    assert first.status_code == 206 and len(first.data) == 100
    assert first.headers["Content-Range"] == f"bytes 0-99/{tracks[0]['size']}"
    whole = reader.get(tracks[0]["href"])
    assert whole.status_code == 200 and len(whole.data) == tracks[0]["size"] and whole.data[:100] == first.data
    tail = reader.get(tracks[0]["href"], Range="bytes=-10")
    assert tail.status_code == 206 and tail.data == whole.data[-10:]

    position = f"/api/v1/books/{book}/position"
    assert reader.get(position).json == {"position": None}
    saved = reader.put(position, json={"track": 2, "offset": 1.5, "recorded_at": "2026-11-23T09:59:00Z",
                                       "device": "phone"})
    assert saved.status_code == 200 and saved.json["accepted"] is True
    got = reader.get(position).json["position"]
    assert (got["track"], got["offset"], got["device"]) == (2, 1.5, "phone")
    assert got["locator"]["href"] == tracks[1]["href"] and got["locator"]["locations"]["fragments"] == ["t=1.5"]

    assert reader.post(f"/api/v1/books/{book}/return").status_code == 204
    assert reader.get("/api/v1/loans").json == {"loans": []}
    assert reader.get(loan["manifest_url"]).status_code == 403
    assert reader.get(tracks[0]["href"]).status_code == 403


def test_borrowing_twice_is_idempotent(books, reader):
    url = f"/api/v1/books/{books['m4b']}/borrow"
    first, second = reader.post(url), reader.post(url)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json["id"] == second.json["id"] and first.json["until"] == second.json["until"]
    assert len(reader.get("/api/v1/loans").json["loans"]) == 1


def test_borrow_answers_an_opds_publication_when_asked(books, reader):
    resp = reader.post(f"/api/v1/books/{books['m4b']}/borrow", headers={**reader.auth,
                                                                         "Accept": "application/opds-publication+json"})
    assert resp.status_code == 201 and resp.mimetype == "application/opds-publication+json"
    acquire = next(link for link in resp.json["links"] if link["rel"] == "http://opds-spec.org/acquisition")
    assert acquire["type"] == "application/audiobook+json"
    assert acquire["properties"]["availability"]["state"] == "ready"


def test_loans_etag_gives_304_until_something_changes(books, reader):
    first = reader.get("/api/v1/loans")
    etag = first.headers["ETag"]
    assert reader.get("/api/v1/loans", **{"If-None-Match": etag}).status_code == 304
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    changed = reader.get("/api/v1/loans", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert reader.get("/api/v1/loans", **{"If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_manifest_has_an_etag_too(books, reader):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    url = f"/api/v1/books/{books['mp3']}/manifest"
    etag = reader.get(url).headers["ETag"]
    assert reader.get(url, **{"If-None-Match": etag}).status_code == 304


def test_range_edge_cases(books, reader):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    url = f"/api/v1/books/{books['mp3']}/tracks/1"
    size = MP3_BOOK.stat().st_size
    open_ended = reader.get(url, Range=f"bytes={size - 5}-")
    assert open_ended.status_code == 206 and open_ended.data == MP3_BOOK.read_bytes()[-5:]
    beyond_end = reader.get(url, Range=f"bytes=0-{size * 2}")
    assert beyond_end.status_code == 206 and len(beyond_end.data) == size
    for bad in (f"bytes={size}-", "bytes=50-10", "bytes=abc", "bytes=-0"):
        resp = reader.get(url, Range=bad)
        assert resp.status_code == 416, bad
        assert resp.headers["Content-Range"] == f"bytes */{size}"
    assert reader.get(url, Range="bytes=0-1,5-6").status_code == 200  # several ranges: the whole file
    assert reader.get(url, Range="items=0-1").status_code == 200  # an unknown unit is ignored
    assert reader.get(f"/api/v1/books/{books['mp3']}/tracks/2").status_code == 404


def test_only_the_borrower_gets_the_manifest_and_tracks(books, reader, other_reader):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    assert other_reader.get(f"/api/v1/books/{books['mp3']}/manifest").status_code == 403
    assert other_reader.get(f"/api/v1/books/{books['mp3']}/tracks/1").status_code == 403
    assert other_reader.get(f"/api/v1/books/{books['mp3']}/position").status_code == 403
    assert reader.get("/api/v1/books/9999/manifest").status_code == 404


def test_without_credentials_401_points_to_the_authentication_document(client, books):
    for url in ("/api/v1/loans", f"/api/v1/books/{books['mp3']}/manifest", f"/api/v1/books/{books['mp3']}/tracks/1"):
        resp = client.get(url)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
        assert REL_AUTH in resp.headers["Link"] and "/opds/auth" in resp.headers["Link"]
        assert "Bearer" in resp.headers["WWW-Authenticate"] and "Basic" in resp.headers["WWW-Authenticate"]
    assert client.post(f"/api/v1/books/{books['mp3']}/borrow").status_code == 401
    assert client.get("/api/v1/loans", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_card_and_pin_over_basic_work_like_a_token(books, reader, client):
    assert client.post(f"/api/v1/books/{books['mp3']}/borrow", headers=reader.basic).status_code == 201
    assert len(client.get("/api/v1/loans", headers=reader.basic).json["loans"]) == 1
    wrong = {"Authorization": reader.basic["Authorization"][:-4] + "AAAA"}
    assert client.get("/api/v1/loans", headers=wrong).status_code == 401


def test_at_most_100_loans_at_once(app, sm, books, reader, now):
    with sm.begin() as s:
        for n in range(100):
            book = Audiobook(identifier=f"urn:test:{n}", title=f"Book {n}", duration=1.0, size=1, toc=[],
                             storage_prefix="x", content_hash="x", added_at=now, updated_at=now)
            s.add(book)
            s.flush()
            s.add(EbookLoan(patron_id=reader.patron_id, audiobook_id=book.id, active_key=f"{reader.patron_id}:{book.id}",
                            started_at=now, until=now + timedelta(days=28), updated_at=now))
    refused = reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert refused.json["reason"] == "limit_total" and refused.json["limit"] == 100
    assert "100" in refused.json["detail"]
    with sm.begin() as s:
        first = s.scalar(select(EbookLoan).where(EbookLoan.patron_id == reader.patron_id).limit(1))
        first_book = first.audiobook_id
    assert reader.post(f"/api/v1/books/{first_book}/return").status_code == 204
    assert reader.post(f"/api/v1/books/{books['mp3']}/borrow").status_code == 201


def test_renewal_extends_from_now_three_times_then_refuses(app, sm, books, reader, now):
    url = f"/api/v1/books/{books['m4b']}/"
    reader.post(url + "borrow")
    with sm.begin() as s:  # 25 days into the loan: in its last week
        loan = s.scalar(select(EbookLoan))
        loan.started_at, loan.until = now - timedelta(days=25), now + timedelta(days=3)
    for n in (1, 2, 3):
        renewed = reader.post(url + "renew")
        assert renewed.status_code == 200 and renewed.json["renewals"] == n
        assert renewed.json["until"] == (now + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
        now += timedelta(days=22)  # the next renewal opens a week before the new end
        app.config["FAKE_NOW"] = now.isoformat()
    refused = reader.post(url + "renew")
    assert refused.status_code == 403 and refused.json["reason"] == "max_renewals"
    assert reader.post(f"/api/v1/books/{books['mp3']}/renew").status_code == 403  # not on loan


def test_a_loan_ends_by_itself_at_until(app, sm, books, reader, now):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    with sm.begin() as s:
        s.scalar(select(EbookLoan)).until = now - timedelta(seconds=1)
    assert reader.get("/api/v1/loans").json == {"loans": []}  # computed on read
    assert reader.get(f"/api/v1/books/{books['mp3']}/manifest").status_code == 403
    run = scheduler.run_job(app, "lending-expire-loans", now)
    assert run.status == "ok" and run.summary.startswith("1 ")
    assert scheduler.run_job(app, "lending-expire-loans", now).summary.startswith("0 ")  # safe to run twice
    with sm.begin() as s:
        loan = s.scalar(select(EbookLoan))
        assert (loan.end_reason, loan.ended_at, loan.active_key) == ("expired", now - timedelta(seconds=1), None)
    assert reader.post(f"/api/v1/books/{books['mp3']}/borrow").status_code == 201


def test_borrowing_again_before_the_job_ran_starts_a_new_loan(sm, books, reader, now):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    with sm.begin() as s:
        s.scalar(select(EbookLoan)).until = now - timedelta(hours=1)
    assert reader.post(f"/api/v1/books/{books['mp3']}/borrow").status_code == 201
    with sm.begin() as s:
        assert sorted(str(loan.end_reason) for loan in s.scalars(select(EbookLoan))) == ["None", "expired"]


def test_old_loans_are_forgotten(app, sm, books, reader, now):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    reader.post(f"/api/v1/books/{books['mp3']}/return")
    assert scheduler.run_job(app, "lending-forget-old-loans", now + timedelta(days=89)).summary.startswith("0 ")
    assert scheduler.run_job(app, "lending-forget-old-loans", now + timedelta(days=91)).summary.startswith("1 ")


def test_position_last_writer_wins_by_timestamp(books, reader):
    book = books["daisy"]
    reader.post(f"/api/v1/books/{book}/borrow")
    url = f"/api/v1/books/{book}/position"
    newer = reader.put(url, json={"track": 3, "offset": 2.0, "recorded_at": "2026-11-23T09:30:00+00:00",
                                  "device": "tablet"})
    assert newer.json["accepted"] is True
    older = reader.put(url, json={"track": 1, "offset": 1.0, "recorded_at": "2026-11-23T09:00:00Z", "device": "phone"})
    assert older.status_code == 200 and older.json["accepted"] is False
    assert older.json["position"]["track"] == 3 and older.json["position"]["device"] == "tablet"
    latest = reader.put(url, json={"locator": {"href": f"http://localhost/api/v1/books/{book}/tracks/2",
                                               "locations": {"fragments": ["t=4.25"]}},
                                   "recorded_at": "2026-11-23T09:45:00Z"})
    assert latest.json["accepted"] is True
    assert (latest.json["position"]["track"], latest.json["position"]["offset"]) == (2, 4.25)


def test_a_device_clock_far_in_the_future_cannot_pin_the_position(books, reader, now):
    book = books["daisy"]
    reader.post(f"/api/v1/books/{book}/borrow")
    url = f"/api/v1/books/{book}/position"
    reader.put(url, json={"track": 3, "offset": 1.0, "recorded_at": "2030-01-01T00:00:00Z"})
    stored = reader.get(url).json["position"]["recorded_at"]
    assert stored == (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_position_survives_returning_and_borrowing_again(books, reader):
    book = books["daisy"]
    reader.post(f"/api/v1/books/{book}/borrow")
    reader.put(f"/api/v1/books/{book}/position", json={"track": 2, "offset": 3.0})
    reader.post(f"/api/v1/books/{book}/return")
    reader.post(f"/api/v1/books/{book}/borrow")
    assert reader.get(f"/api/v1/books/{book}/position").json["position"]["track"] == 2


def test_position_validation(books, reader):
    book = books["mp3"]
    reader.post(f"/api/v1/books/{book}/borrow")
    url = f"/api/v1/books/{book}/position"
    for body in ({}, {"track": 9, "offset": 1}, {"track": 1, "offset": 999}, {"track": 1, "offset": "x"},
                 {"track": 1, "offset": 1, "recorded_at": "yesterday"}, {"track": 1, "offset": 1,
                                                                          "recorded_at": "2026-11-23T09:00:00"}):
        resp = reader.put(url, json=body)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", body


def test_during_maintenance_new_loans_are_refused_and_loans_keep_playing(books, reader, now, request):
    book, other = books["daisy"], books["mp3"]
    reader.post(f"/api/v1/books/{book}/borrow")
    request.getfixturevalue("maintenance")
    refused = reader.post(f"/api/v1/books/{other}/borrow")
    assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == str(2 * 3600 + 1)
    assert refused.json["announcement_url"] == "http://kuulo.test/status/maintenance/1"
    assert reader.post(f"/api/v1/books/{book}/renew").status_code == 503
    loans = reader.get("/api/v1/loans")
    assert loans.status_code == 200 and len(loans.json["loans"]) == 1
    manifest = reader.get(f"/api/v1/books/{book}/manifest")
    assert manifest.status_code == 200
    track = reader.get(manifest.json["readingOrder"][0]["href"], Range="bytes=0-99")
    assert track.status_code == 206 and len(track.data) == 100
    assert reader.put(f"/api/v1/books/{book}/position", json={"track": 1, "offset": 1}).status_code == 200
    assert reader.get(f"/api/v1/books/{book}/position").status_code == 200
    assert reader.get("/opds/loans").status_code == 200


def test_openapi_lists_the_lending_paths(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in ("/api/v1/loans", "/api/v1/books/{book_id}/borrow", "/api/v1/books/{book_id}/manifest",
                 "/api/v1/books/{book_id}/tracks/{number}", "/api/v1/books/{book_id}/position"):
        assert path in paths


@pytest.mark.postgres
def test_simultaneous_borrows_of_one_book_make_one_loan(app, sm, books, reader, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("needs PostgreSQL (KUULO_TEST_DATABASE_URL)")
    from concurrent.futures import ThreadPoolExecutor

    url = f"/api/v1/books/{books['daisy']}/borrow"

    def borrow(_):
        return app.test_client().post(url, headers=reader.auth).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(borrow, range(8)))
    assert codes == [200] * 7 + [201]
    with sm.begin() as s:
        assert len(list(s.scalars(select(EbookLoan)))) == 1
