"""OPDS 2.0 feeds, the Authentication for OPDS document and Readium manifests: structural checks of
what the official schemas require (the schemas themselves are not part of the project)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import gate
from tests.lending.conftest import DAISY_BOOK, ingest_path

PROFILE = "https://readium.org/webpub-manifest/profiles/audiobook"
BORROW = "http://opds-spec.org/acquisition/borrow"
ACQUIRE = "http://opds-spec.org/acquisition"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ACQUISITION_RELS = {"preview", ACQUIRE, BORROW, "http://opds-spec.org/acquisition/open-access",
                    "http://opds-spec.org/acquisition/buy", "http://opds-spec.org/acquisition/sample",
                    "http://opds-spec.org/acquisition/subscribe"}


def rels(link) -> set[str]:
    rel = link.get("rel", [])
    return {rel} if isinstance(rel, str) else set(rel)


def assert_link(link):
    assert isinstance(link.get("href"), str) and link["href"]
    if link.get("templated"):
        assert "{" in link["href"]
    else:
        assert " " not in link["href"]


def assert_publication(pub):
    assert pub["metadata"]["title"] and pub["metadata"]["conformsTo"] == PROFILE
    assert pub["metadata"]["@type"] == "http://schema.org/Audiobook"
    for link in pub["links"]:
        assert_link(link)
    assert any(rels(link) & ACQUISITION_RELS for link in pub["links"]), "an acquisition link is required"


def assert_feed(feed):
    assert feed["metadata"]["title"]
    assert any("self" in rels(link) for link in feed["links"])
    for link in feed["links"]:
        assert_link(link)
    collections = [key for key in ("publications", "navigation", "groups") if key in feed]
    assert collections, "a feed needs publications, navigation or groups"
    for key in collections:
        assert feed[key], f"{key} must not be empty"
    for link in feed.get("navigation", []):
        assert link["title"] and link["href"]
    pubs = feed.get("publications", []) + [p for g in feed.get("groups", []) for p in g.get("publications", [])]
    for group in feed.get("groups", []):
        assert group["metadata"]["title"]
    for pub in pubs:
        assert_publication(pub)
    return pubs


def test_catalogue_offers_new_titles_search_and_a_borrow_link_each(client, books, reader):
    feed = client.get("/opds")
    assert feed.status_code == 200 and feed.mimetype == "application/opds+json"
    pubs = assert_feed(feed.json)
    assert len(pubs) == 3
    borrow_links = [link for p in pubs for link in p["links"] if BORROW in rels(link)]
    assert len(borrow_links) == 3 and all(link["href"].startswith("http://") for link in borrow_links)
    search = next(link for link in feed.json["links"] if "search" in rels(link))
    assert search["templated"] is True and search["href"].endswith("/opds/search{?query}")
    # The acceptance contract: readable with the patron's token, borrow by POSTing to the link.
    with_token = reader.get("/opds").json
    href = next(link["href"] for p in assert_feed(with_token) for link in p["links"] if BORROW in rels(link))
    assert reader.post(href).status_code == 201
    again = assert_feed(reader.get("/opds").json)
    ready = [p for p in again if any(ACQUIRE in rels(link) for link in p["links"])]
    assert len(ready) == 1 and not any(BORROW in rels(link) for link in ready[0]["links"])


def test_search_and_empty_results(client, books):
    found = assert_feed(client.get("/opds/search?query=SAGA").json)
    assert [p["metadata"]["title"] for p in found] == ["En liten saga"]
    assert [p["metadata"]["title"] for p in assert_feed(client.get("/opds/search?query=writer voyage").json)] == \
        ["A Small Voyage"]
    empty = client.get("/opds/search?query=nothing-like-this").json
    assert_feed(empty)
    assert "publications" not in empty and empty["navigation"]
    assert_feed(client.get("/opds/search?query=100%25_").json)  # LIKE wildcards are plain text


def test_new_titles_page(client, books):
    feed = client.get("/opds/new").json
    assert len(assert_feed(feed)) == 3 and feed["metadata"]["numberOfItems"] == 3
    assert not any("next" in rels(link) for link in feed["links"])


def test_loans_shelf_carries_availability_and_return_links(books, reader, now):
    empty = reader.get("/opds/loans").json
    assert_feed(empty)
    assert "publications" not in empty
    reader.post(f"/api/v1/books/{books['m4b']}/borrow")
    shelf = reader.get("/opds/loans")
    assert shelf.status_code == 200
    (pub,) = assert_feed(shelf.json)
    acquire = next(link for link in pub["links"] if ACQUIRE in rels(link))
    assert acquire["type"] == "application/audiobook+json" and acquire["href"].endswith("/manifest")
    availability = acquire["properties"]["availability"]
    assert availability["state"] == "ready" and ISO.match(availability["since"]) and ISO.match(availability["until"])
    assert availability["until"] == (now + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
    revoke = next(link for link in pub["links"] if "http://librarysimplified.org/terms/rel/revoke" in rels(link))
    assert reader.post(revoke["href"]).status_code == 204
    assert "publications" not in reader.get("/opds/loans").json


def test_loans_shelf_without_credentials_answers_the_authentication_document(client):
    resp = client.get("/opds/loans")
    assert resp.status_code == 401 and resp.mimetype == "application/opds-authentication+json"
    assert resp.json["authentication"] and "http://opds-spec.org/auth/document" in resp.headers["Link"]


def assert_authentication_document(doc):
    assert doc["title"] and doc["id"].startswith("http")
    types = [flow["type"] for flow in doc["authentication"]]
    assert types == ["http://opds-spec.org/auth/basic", "http://thepalaceproject.org/authtype/basic-token"]
    for flow in doc["authentication"]:
        assert set(flow["labels"]) == {"login", "password"}
    token_flow = doc["authentication"][1]
    assert token_flow["links"][0]["rel"] == "authenticate" and token_flow["links"][0]["href"].endswith("/api/v1/token")
    for link in doc["links"]:
        assert_link(link)


def test_authentication_document_in_every_language(client):
    for lang, login in (("fi", "Kirjastokortin numero"), ("sv", None), ("en", "Library card number")):
        doc = client.get("/opds/auth", headers={"Accept-Language": lang}).json
        assert_authentication_document(doc)
        if login:
            assert doc["authentication"][0]["labels"]["login"] == login
        assert "announcements" not in doc


def test_authentication_document_carries_the_current_maintenance_announcement(client, now):
    class Closed:
        def closure(self, component, at, language):
            return gate.Closure(component, now + timedelta(hours=1), "http://kuulo.test/status/m/7", "Huoltokatko")

    gate.set_provider(Closed())
    try:
        doc = client.get("/opds/auth").json
    finally:
        gate.set_provider(None)
    assert_authentication_document(doc)
    (announcement,) = doc["announcements"]
    assert announcement["content"] == "Huoltokatko" and announcement["url"] == "http://kuulo.test/status/m/7"


@pytest.mark.parametrize("name", ["mp3", "m4b", "daisy"])
def test_manifests_follow_the_audiobook_profile(books, reader, name):
    reader.post(f"/api/v1/books/{books[name]}/borrow")
    manifest = reader.get(f"/api/v1/books/{books[name]}/manifest").json
    meta = manifest["metadata"]
    assert meta["conformsTo"] == PROFILE and meta["title"] and meta["identifier"].startswith("urn:")
    assert meta["duration"] > 0 and meta["language"] in ("fi", "sv", "en")
    assert meta["author"] and meta["narrator"] == "eSpeak NG"
    self_link = next(link for link in manifest["links"] if "self" in rels(link))
    assert self_link["type"] == "application/audiobook+json"
    assert ISO.match(self_link["properties"]["availability"]["until"])
    order = manifest["readingOrder"]
    assert order and len({t["href"] for t in order}) == len(order)
    for track in order:
        assert track["type"] in ("audio/mpeg", "audio/mp4") and track["duration"] > 0 and track["bitrate"] > 0
        assert_link(track)
    assert abs(sum(t["duration"] for t in order) - meta["duration"]) < 0.01
    hrefs = {t["href"] for t in order}

    def walk(entries):
        for entry in entries:
            base, _, fragment = entry["href"].partition("#")
            assert base in hrefs and re.fullmatch(r"t=\d+(\.\d+)?", fragment) and entry["title"]
            yield entry
            yield from walk(entry.get("children", []))

    assert len(list(walk(manifest["toc"]))) >= 3


def test_track_hrefs_are_stable_across_reingest(app, books, reader, tmp_path):
    import shutil

    reader.post(f"/api/v1/books/{books['daisy']}/borrow")
    url = f"/api/v1/books/{books['daisy']}/manifest"
    before = [t["href"] for t in reader.get(url).json["readingOrder"]]
    copy = tmp_path / "liten-saga-v2"
    shutil.copytree(DAISY_BOOK, copy)
    (copy / "ncc.html").write_text((copy / "ncc.html").read_text().replace("Andra kapitlet", "Kapitel två"))
    assert ingest_path(app, copy).book_id == books["daisy"]
    after = reader.get(url).json
    assert [t["href"] for t in after["readingOrder"]] == before
    assert after["toc"][-1]["title"] == "Kapitel två"
