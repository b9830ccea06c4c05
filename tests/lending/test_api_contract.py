"""The reader-app API keeps its declared contract: hostile position bodies get a clear 400/422, ids beyond
PostgreSQL's integer are 404, the document lists the real methods only, and the real answers — the polled
loans list included — are what the document says."""
from __future__ import annotations

import json

import pytest
from jsonschema import ValidationError

from app.lending import documents, http
from app.lending.schemas import LoanList, PositionAnswer
from app.platform.openapi import ContractBroken
from tests.lending.conftest import DAISY_BOOK, M4B_BOOK, MP3_BOOK, ingest_path

BOOK_PATHS = {"/api/v1/loans": {"get"}, "/api/v1/books/{book_id}/borrow": {"post"},
              "/api/v1/books/{book_id}/renew": {"post"}, "/api/v1/books/{book_id}/return": {"post"},
              "/api/v1/books/{book_id}/manifest": {"get"}, "/api/v1/books/{book_id}/tracks/{number}": {"get"},
              "/api/v1/books/{book_id}/position": {"get", "put"}}


def put_raw(reader, url: str, raw: str | bytes):
    data = raw.encode() if isinstance(raw, str) else raw
    return reader.client.put(url, data=data, headers={**reader.auth, "Content-Type": "application/json"})


def problem_of(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text[:300]
    assert resp.mimetype == "application/problem+json"
    return resp.json


def fields(body: dict) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.fixture()
def book(app) -> int:
    """One single-track book (the full three-book fixture costs seconds per test)."""
    return ingest_path(app, MP3_BOOK).book_id


@pytest.fixture()
def position_url(book, reader) -> str:
    assert reader.post(f"/api/v1/books/{book}/borrow").status_code == 201
    return f"/api/v1/books/{book}/position"


HOSTILE = ['{"track": 1, "offset":', "[1, 2.5]", '[{"track": 1, "offset": 2}]', '"track"', "null", "12",
           '{"track": 1, "offset": NaN}', '{"a":' + "[" * 2000 + "]" * 2000 + "}", "[" * 100_000 + "]" * 100_000, ""]


def test_a_malformed_array_or_nested_position_body_is_400_and_saves_nothing(reader, position_url):
    for raw in HOSTILE:
        body = problem_of(put_raw(reader, position_url, raw), 400)
        assert body["type"].endswith("bad-request"), raw[:40]
    assert "nested too deeply" in problem_of(put_raw(reader, position_url, HOSTILE[7]), 400)["detail"]
    assert reader.get(position_url).json == {"position": None}


def test_a_position_body_that_is_not_utf8_is_400(reader, position_url):
    problem_of(put_raw(reader, position_url, json.dumps({"track": 1, "offset": 1}).encode("utf-16")), 400)


@pytest.mark.parametrize("text", ["phone\x00", "Te\ud800st"])
def test_nul_or_a_lone_surrogate_in_the_device_is_422_naming_it(reader, position_url, text):
    raw = json.dumps({"track": 1, "offset": 1.5, "device": text})  # written as the escapes \u0000 and \ud800
    body = problem_of(put_raw(reader, position_url, raw), 422)
    assert list(fields(body)) == ["device"] and "cannot be stored" in fields(body)["device"]
    assert reader.get(position_url).json == {"position": None}


def test_a_lone_surrogate_in_a_locator_href_is_422_naming_it(reader, position_url):
    raw = json.dumps({"locator": {"href": "http://localhost/tracks/\udc001", "locations": {"fragments": ["t=1"]}}})
    assert list(fields(problem_of(put_raw(reader, position_url, raw), 422))) == ["locator.href"]


@pytest.mark.parametrize("body, field", [({"offset": 1}, "track"), ({"track": 1}, "offset"),
                                         ({"track": "1", "offset": 1}, "track"), ({"track": 1, "offset": "1.5"}, "offset"),
                                         ({"track": 1, "offset": -1}, "offset"), ({"track": 1, "offset": 1, "device": 7}, "device"),
                                         ({"track": 1, "offset": 1, "recorded_at": "2026-11-23T09:00:00"}, "recorded_at"),
                                         ({"href": "http://localhost/tracks/1", "locations": {"fragments": ["t=x"]}}, "offset"),
                                         ({"locator": "http://localhost/tracks/1"}, "locator")])
def test_position_field_errors_are_422_naming_the_field(reader, position_url, body, field):
    assert field in fields(problem_of(reader.put(position_url, json=body), 422))


def test_what_reader_apps_send_keeps_working(app, reader):
    daisy = ingest_path(app, DAISY_BOOK).book_id
    reader.post(f"/api/v1/books/{daisy}/borrow")
    position_url, track_2 = f"/api/v1/books/{daisy}/position", f"http://localhost/api/v1/books/{daisy}/tracks/2"
    as_fields = reader.put(position_url, json={"track": 1, "offset": 3, "recorded_at": "2026-11-23T09:00:00Z",
                                               "device": "phone", "unknown": "ignored"})
    assert as_fields.status_code == 200 and as_fields.json["position"]["offset"] == 3.0
    locator_body = reader.put(position_url, json={"href": track_2, "type": "audio/mpeg",
                                                  "locations": {"fragments": ["t=2.5"], "progression": 0.5},
                                                  "recorded_at": "2026-11-23T11:10:00+02:00"})
    assert locator_body.status_code == 200 and locator_body.json["accepted"] is True
    saved = PositionAnswer.model_validate(reader.get(position_url).json).position
    assert saved is not None and (saved.track, saved.offset, saved.device) == (2, 2.5, "")
    assert saved.locator.locations.fragments == ["t=2.5"] and saved.locator.href.endswith("/tracks/2")


@pytest.mark.parametrize("method, path", [
    ("post", "/borrow"), ("post", "/renew"), ("post", "/return"), ("get", "/manifest"), ("get", "/tracks/1"),
    ("get", "/position"), ("put", "/position")])
def test_a_book_id_beyond_postgresqls_integer_is_404(reader, method, path):
    resp = getattr(reader.client, method)(f"/api/v1/books/2147483648{path}", headers=reader.auth,
                                          json={"track": 1, "offset": 1})
    problem_of(resp, 404)
    problem_of(getattr(reader.client, method)(f"/api/v1/books/2147483647{path}", headers=reader.auth,
                                              json={"track": 1, "offset": 1}), 404)


def test_a_track_number_beyond_postgresqls_integer_is_404(reader, book):
    reader.post(f"/api/v1/books/{book}/borrow")
    problem_of(reader.get(f"/api/v1/books/{book}/tracks/2147483648"), 404)


def test_the_document_lists_the_real_methods_only(client, reader, book):
    doc = client.get("/api/openapi.json").json
    assert {path: set(doc["paths"][path]) for path in BOOK_PATHS} == BOOK_PATHS
    assert reader.client.put(f"/api/v1/books/{book}/borrow", headers=reader.auth).status_code == 405
    assert reader.client.delete(f"/api/v1/books/{book}/return", headers=reader.auth).status_code == 405
    assert reader.client.delete(f"/api/v1/books/{book}/position", headers=reader.auth).status_code == 405


def test_the_document_declares_each_answers_content_type(client):
    paths = client.get("/api/openapi.json").json["paths"]
    track = paths["/api/v1/books/{book_id}/tracks/{number}"]["get"]["responses"]
    assert track["200"]["content"] == track["206"]["content"] == {"audio/mpeg": {}, "audio/mp4": {}}
    assert "content" not in track["304"]
    manifest = paths["/api/v1/books/{book_id}/manifest"]["get"]["responses"]["200"]["content"]
    assert list(manifest) == ["application/audiobook+json"]
    borrow = paths["/api/v1/books/{book_id}/borrow"]["post"]["responses"]
    assert set(borrow["201"]["content"]) == {"application/json", "application/opds-publication+json"}
    assert borrow["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Loan"}
    put = paths["/api/v1/books/{book_id}/position"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PositionUpdate"}


def test_an_m4b_track_is_served_as_audio_mp4_with_ranges(app, reader):
    m4b = ingest_path(app, M4B_BOOK).book_id
    reader.post(f"/api/v1/books/{m4b}/borrow")
    url = f"/api/v1/books/{m4b}/tracks/1"
    whole = reader.get(url)
    assert whole.status_code == 200 and whole.mimetype == "audio/mp4"
    part = reader.get(url, Range="bytes=0-9")
    assert part.status_code == 206 and part.mimetype == "audio/mp4" and len(part.data) == 10


def test_the_polled_loans_list_is_the_declared_document(app, book, reader):
    """The hot path keeps building its bytes itself; every test checks them against the model."""
    assert app.config["API_CHECK_RESPONSES"]
    books = {"mp3": book, "m4b": ingest_path(app, M4B_BOOK).book_id}
    for name in ("mp3", "m4b"):
        reader.post(f"/api/v1/books/{books[name]}/borrow")
    for headers in (reader.auth, reader.basic):
        resp = reader.client.get("/api/v1/loans", headers=headers)
        loans = LoanList.model_validate(resp.json).loans
        assert [loan.book.id for loan in loans] == [books["mp3"], books["m4b"]]
        assert all(loan.links.return_.endswith("/return") for loan in loans)


def test_a_loans_list_that_drifts_from_its_model_fails_the_tests(monkeypatch, book, reader):
    reader.post(f"/api/v1/books/{book}/borrow")
    drifted = documents.loan_json

    def with_an_undeclared_key(loan, max_renewals):
        return {**drifted(loan, max_renewals), "secret": "undeclared"}

    monkeypatch.setattr(documents, "loan_json", with_an_undeclared_key)
    http._encoded_loans.cache_clear()
    try:
        with pytest.raises((ContractBroken, ValidationError), match="secret"):
            reader.get("/api/v1/loans")
    finally:
        http._encoded_loans.cache_clear()
