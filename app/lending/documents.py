"""JSON documents for reader apps: the loans list, Readium audiobook manifests, OPDS 2.0 publications
and feeds, and the Authentication for OPDS document. Built at the edge (they need URLs); every
URL is absolute, so a document keeps working when saved for offline use.

Each loan's ``until`` travels with it: in the loans list, in the manifest's self link
(``properties.availability``) and on the OPDS loans shelf, so an app can keep playing its downloads
offline — also through a maintenance break — until then.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g, url_for
from flask_babel import gettext as _

from app.gate import Closure
from app.lending.models import Audiobook, EbookLoan, ListeningPosition
from app.lending.schemas import LocatorLocations, Position, PositionLocator
from app.lending.service import LoanView

AUDIOBOOK_PROFILE = "https://readium.org/webpub-manifest/profiles/audiobook"
READIUM_CONTEXT = "https://readium.org/webpub-manifest/context.jsonld"
SCHEMA_AUDIOBOOK = "http://schema.org/Audiobook"
MANIFEST_TYPE = "application/audiobook+json"
OPDS_FEED = "application/opds+json"
OPDS_PUBLICATION = "application/opds-publication+json"
OPDS_AUTH = "application/opds-authentication+json"
REL_BORROW = "http://opds-spec.org/acquisition/borrow"
REL_ACQUIRE = "http://opds-spec.org/acquisition"
REL_RETURN = "http://librarysimplified.org/terms/rel/revoke"  # Palace's early-return link
REL_RENEW = "https://kuulo.fi/rel/renew"
REL_POSITION = "https://kuulo.fi/rel/position"
REL_SHELF = "http://opds-spec.org/shelf"
REL_AUTH = "http://opds-spec.org/auth/document"
AUTH_BASIC = "http://opds-spec.org/auth/basic"
AUTH_BASIC_TOKEN = "http://thepalaceproject.org/authtype/basic-token"


def iso(moment: datetime) -> str:
    """UTC, whole seconds, "Z": 2026-12-21T10:00:00Z."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


# Per-book URLs are built from one url_for per endpoint and request (a loans list has 120 of them).
BOOK_ENDPOINTS = {"manifest": "lending_api.manifest", "borrow": "lending_api.borrow", "renew": "lending_api.renew",
                  "return": "lending_api.return_book", "position": "lending_api.position",
                  "publication": "lending_opds.publication", "cover": "lending.cover"}
BOOK, NUMBER = "987654321", "876543219"


def _templates() -> dict[str, str]:
    templates = g.get("lending_url_templates")
    if templates is None:
        templates = {name: url(endpoint, book_id=int(BOOK)) for name, endpoint in BOOK_ENDPOINTS.items()}
        templates["track"] = url("lending_api.track", book_id=int(BOOK), number=int(NUMBER))
        g.lending_url_templates = templates
    return templates


def book_url(name: str, book_id: int) -> str:
    return _templates()[name].replace(BOOK, str(book_id))


def track_url(book_id: int, number: int) -> str:
    return _templates()["track"].replace(BOOK, str(book_id)).replace(NUMBER, str(number))


# -- reader-app JSON ---------------------------------------------------------------------------------

def loan_json(loan: LoanView, max_renewals: int) -> dict[str, Any]:
    book_id, templates = str(loan.book_id), _templates()
    links = {name: templates[name].replace(BOOK, book_id) for name in ("manifest", "return", "renew", "position",
                                                                       "publication")}
    return {"id": loan.id, "since": iso(loan.since), "until": iso(loan.until), "renewals": loan.renewals,
            "renewals_left": max(0, max_renewals - loan.renewals), "manifest_url": links["manifest"],
            "book": {"id": loan.book_id, "identifier": loan.identifier, "title": loan.title, "author": loan.author,
                     "narrator": loan.narrator, "language": loan.language, "duration": loan.duration},
            "links": links}


def position_json(position: ListeningPosition | None, book: Audiobook) -> dict[str, Any] | None:
    if position is None:
        return None
    tracks = {t.number: t for t in book.tracks}
    track = tracks.get(position.track)
    before = sum(t.duration for t in book.tracks if t.number < position.track)
    progress: dict[str, float] = {}
    if track and track.duration and book.duration:
        progress = {"progression": round(min(position.offset_seconds / track.duration, 1), 4),
                    "totalProgression": round(min((before + position.offset_seconds) / book.duration, 1), 4)}
    locations = LocatorLocations(fragments=[f"t={seconds(position.offset_seconds)}"], **progress)
    locator = PositionLocator(href=track_url(book.id, position.track),
                              type=track.media_type if track else "audio/mpeg", locations=locations)
    return Position(track=position.track, offset=position.offset_seconds, recorded_at=iso(position.recorded_at),
                    device=position.device, locator=locator).model_dump(mode="json", exclude_none=True)


# -- Readium Web Publication Manifest (audiobook profile) ------------------------------------------

def _metadata(book: Audiobook) -> dict[str, Any]:
    meta: dict[str, Any] = {"@type": SCHEMA_AUDIOBOOK, "conformsTo": AUDIOBOOK_PROFILE,
                            "identifier": book.identifier, "title": book.title, "modified": iso(book.updated_at),
                            "duration": book.duration}
    for key in ("author", "narrator", "language"):
        if getattr(book, key):
            meta[key] = getattr(book, key)
    return meta


def _toc(book_id: int, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    links = []
    for entry in entries:
        link: dict[str, Any] = {"href": f"{track_url(book_id, entry['track'])}#t={seconds(entry['start'])}",
                                "title": entry["title"]}
        if entry.get("children"):
            link["children"] = _toc(book_id, entry["children"])
        links.append(link)
    return links


def availability(loan: EbookLoan) -> dict[str, Any]:
    return {"state": "ready", "since": iso(loan.started_at), "until": iso(loan.until)}


def manifest(book: Audiobook, loan: EbookLoan) -> dict[str, Any]:
    return {
        "@context": READIUM_CONTEXT,
        "metadata": _metadata(book),
        "links": [
            {"rel": "self", "href": book_url("manifest", book.id), "type": MANIFEST_TYPE,
             "properties": {"availability": availability(loan)}},
            {"rel": REL_POSITION, "href": book_url("position", book.id), "type": "application/json"},
            {"rel": REL_RETURN, "href": book_url("return", book.id)},
        ],
        "readingOrder": [{"href": track_url(book.id, t.number), "type": t.media_type, "title": t.title,
                          "duration": t.duration, "bitrate": t.bitrate, "size": t.size} for t in book.tracks],
        "toc": _toc(book.id, book.toc or []),
        **({"resources": [{**cover, "rel": "cover"} for cover in _images(book)]} if book.cover_key else {}),
    }


def _images(book: Audiobook) -> list[dict[str, Any]]:
    return [{"href": book_url("cover", book.id), "type": book.cover_type}] if book.cover_key else []


# -- OPDS 2.0 ----------------------------------------------------------------------------------------

def publication(book: Audiobook, loan: EbookLoan | None, *, renewable: bool = False) -> dict[str, Any]:
    """The book as an OPDS 2.0 publication; on loan, its renew link only when renewing is possible now
    (``service.renewal_decision``), so a reader app never offers a renewal that would be refused."""
    links: list[dict[str, Any]] = [{"rel": "self", "href": book_url("publication", book.id),
                                    "type": OPDS_PUBLICATION}]
    if loan is not None:
        links += [
            {"rel": REL_ACQUIRE, "href": book_url("manifest", book.id), "type": MANIFEST_TYPE,
             "properties": {"availability": availability(loan)}},
            {"rel": REL_RETURN, "href": book_url("return", book.id)},
        ]
        if renewable:
            links.append({"rel": REL_RENEW, "href": book_url("renew", book.id)})
    else:
        links.append({"rel": REL_BORROW, "href": book_url("borrow", book.id), "type": OPDS_PUBLICATION,
                      "properties": {"availability": {"state": "available"},
                                     "indirectAcquisition": [{"type": MANIFEST_TYPE}]}})
    doc: dict[str, Any] = {"metadata": _metadata(book), "links": links}
    if book.cover_key:
        doc["images"] = _images(book)
    return doc


def feed_links(self_url: str) -> list[dict[str, Any]]:
    return [{"rel": "self", "href": self_url, "type": OPDS_FEED},
            {"rel": "start", "href": url("lending_opds.catalogue"), "type": OPDS_FEED},
            {"rel": "search", "href": url("lending_opds.search") + "{?query}", "type": OPDS_FEED, "templated": True},
            {"rel": REL_SHELF, "href": url("lending_opds.loans"), "type": OPDS_FEED},
            {"rel": REL_AUTH, "href": url("lending_opds.auth_document"), "type": OPDS_AUTH}]


def back_to_catalogue() -> list[dict[str, Any]]:
    """OPDS feeds need a non-empty collection: an empty list shows the way back instead."""
    return [{"href": url("lending_opds.catalogue"), "title": _("Back to the catalogue"), "type": OPDS_FEED,
             "rel": "start"}]


def feed(title: str, self_url: str, publications: list[dict[str, Any]], *, total: int | None = None,
         next_url: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"metadata": {"title": title}, "links": feed_links(self_url)}
    if total is not None:
        doc["metadata"]["numberOfItems"] = total
    if next_url:
        doc["links"].append({"rel": "next", "href": next_url, "type": OPDS_FEED})
    if publications:
        doc["publications"] = publications
    else:
        doc["navigation"] = back_to_catalogue()
    return doc


def catalogue(new_titles: list[dict[str, Any]], total: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"metadata": {"title": "Kuulo"}, "links": feed_links(url("lending_opds.catalogue")),
                           "navigation": [
                               {"href": url("lending_opds.new_titles"), "title": _("New titles"), "type": OPDS_FEED,
                                "rel": "http://opds-spec.org/sort/new"},
                               {"href": url("lending_opds.loans"), "title": _("My loans"), "type": OPDS_FEED,
                                "rel": REL_SHELF}]}
    if new_titles:
        doc["groups"] = [{"metadata": {"title": _("New titles"), "numberOfItems": total},
                          "links": [{"rel": "self", "href": url("lending_opds.new_titles"), "type": OPDS_FEED}],
                          "publications": new_titles}]
    return doc


def authentication_document(closure: Closure | None) -> dict[str, Any]:
    labels = {"login": _("Library card number"), "password": _("PIN")}
    inputs = {"login": {"keyboard": "Number pad"}, "password": {"keyboard": "Number pad", "maximum_length": 4}}
    doc: dict[str, Any] = {
        "id": url("lending_opds.auth_document"),
        "title": "Kuulo",
        "description": _("Log in with your library card number and PIN to borrow and listen to audiobooks."),
        "links": [{"rel": "start", "href": url("lending_opds.catalogue"), "type": OPDS_FEED},
                  {"rel": REL_SHELF, "href": url("lending_opds.loans"), "type": OPDS_FEED},
                  {"rel": "help", "href": url("core.home"), "type": "text/html"},
                  {"rel": "alternate", "href": url("lending.catalogue"), "type": "text/html"}],
        "authentication": [
            {"type": AUTH_BASIC, "description": _("Library card number and PIN"), "labels": labels,
             "inputs": inputs},
            {"type": AUTH_BASIC_TOKEN, "description": _("Library card number and PIN, exchanged for a device token"),
             "labels": labels, "inputs": inputs,
             "links": [{"rel": "authenticate", "href": url("accounts_api.create_token"), "type": "application/json"}]},
        ],
    }
    if closure is not None:
        doc["announcements"] = [{"id": closure.url, "content": closure.title, "url": closure.url,
                                 "until": iso(closure.until) if closure.until else None}]
        doc["links"].append({"rel": "https://kuulo.fi/rel/announcement", "href": closure.url, "type": "text/html",
                             "title": closure.title})
    return doc
