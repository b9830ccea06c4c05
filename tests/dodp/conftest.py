"""DAISY Online fixtures: a player talking SOAP to the test client, every answer validated against the XSD."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from app.lending.dodp.soap import BOOKMARK, DO, SOAP_ENV
from tests import factories
from tests.lending.conftest import books, ingest_path  # noqa: F401  (the sample books)

SCHEMAS = Path(__file__).resolve().parents[2] / "app" / "lending" / "dodp" / "schemas"
WSDL = {"1": SCHEMAS / "v1" / "do-wsdl-10.wsdl", "2": SCHEMAS / "v2" / "do-wsdl-20.wsdl"}
NS = {"s": SOAP_ENV, "do": DO, "bm": BOOKMARK, "dc": "http://purl.org/dc/elements/1.1/"}
RSA = ('<readingSystemAttributes><manufacturer>Test</manufacturer><model>Player</model><version>1</version>'
       '<config><supportsMultipleSelections>false</supportsMultipleSelections>'
       '<preferredUILanguage>{lang}</preferredUILanguage><supportedContentFormats/>'
       '<supportedContentProtectionFormats/><supportedMimeTypes><mimeType type="audio/mpeg"/></supportedMimeTypes>'
       '<supportedInputTypes><input type="TEXT_ALPHANUMERIC"/></supportedInputTypes>'
       '<requiresAudioLabels>false</requiresAudioLabels></config></readingSystemAttributes>')


@cache
def schema(version: str) -> etree.XMLSchema:
    """The WSDL's own schema (the operations' wrapper elements, including do-types and the bookmarks)."""
    doc = etree.parse(str(WSDL[version]))
    inline = doc.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    return etree.XMLSchema(etree.fromstring(etree.tostring(inline), base_url=str(WSDL[version])))


def validate(version: str, element: Any) -> None:
    xsd = schema(version)
    if not xsd.validate(element):
        raise AssertionError(f"not valid against the v{version} schema: {xsd.error_log}\n"
                             + etree.tostring(element, encoding="unicode")[:2000])


def envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{body}</s:Body>'
            '</s:Envelope>').encode()


class Fault(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind, self.reason = kind, reason


class Player:
    """A DAISY player: SOAP calls over the test client (which keeps the session cookie)."""

    def __init__(self, client: Any, version: str = "1") -> None:
        self.client, self.version = client, version

    def action(self, operation: str) -> str:
        return f'"/{operation}"' if self.version == "1" else f'"urn:http://www.daisy.org/ns/daisy-online/{operation}"'

    def raw(self, operation: str, inner: str = "", **headers: str) -> Any:
        body = envelope(f'<{operation} xmlns="{DO}">{inner}</{operation}>')
        return self.client.post("/daisy-online", data=body,
                                headers={"Content-Type": "text/xml; charset=utf-8",
                                         "SOAPAction": self.action(operation), **headers})

    def call(self, operation: str, inner: str = "") -> Any:
        """The validated ``<operation>Response`` element, or raises Fault (also validated)."""
        return answer(self.raw(operation, inner), self.version, operation)

    def log_on(self, card: str, pin: str = factories.PIN, lang: str = "en") -> Any:
        if self.version == "2":
            return self.call("logOn", f"<username>{card}</username><password>{pin}</password>"
                                      + RSA.format(lang=lang))
        result = self.call("logOn", f"<username>{card}</username><password>{pin}</password>")
        return result.findtext("do:logOnResult", namespaces=NS) == "true"

    def set_up(self, card: str, lang: str = "en") -> None:
        if self.version == "2":
            self.log_on(card, lang=lang)
            return
        assert self.log_on(card)
        self.call("getServiceAttributes")
        result = self.call("setReadingSystemAttributes", RSA.format(lang=lang))
        assert result.findtext("do:setReadingSystemAttributesResult", namespaces=NS) == "true"

    def content_list(self, list_id: str, first: int = 0, last: int = -1) -> Any:
        return self.call("getContentList", f"<id>{list_id}</id><firstItem>{first}</firstItem>"
                                           f"<lastItem>{last}</lastItem>").find("do:contentList", NS)

    def ids(self, list_id: str) -> list[str]:
        return [item.get("id") for item in self.content_list(list_id).findall("do:contentItem", NS)]

    def result(self, operation: str, inner: str) -> str:
        return self.call(operation, inner).findtext(f"do:{operation}Result", namespaces=NS)


def answer(resp: Any, version: str, operation: str) -> Any:
    assert resp.headers["Content-Type"].startswith("text/xml"), resp.headers
    root = etree.fromstring(resp.data)
    body = root.find("s:Body", NS)
    fault = body.find("s:Fault", NS)
    if fault is not None:
        assert resp.status_code == 500
        detail = fault.find("detail")[0]
        validate(version, detail)
        raise Fault(etree.QName(detail).localname.removesuffix("Fault"), fault.findtext("faultstring"))
    assert resp.status_code == 200, resp.data
    element = body[0]
    assert etree.QName(element).localname == operation + "Response"
    validate(version, element)
    return element


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "STATUS_CACHE_SECONDS": 0}


@pytest.fixture()
def card(sm: Any, now: Any) -> str:
    with sm.begin() as s:
        return factories.patron(s, now, email="player@test.kuulo").card_number


@pytest.fixture()
def player(client: Any) -> Player:
    return Player(client)
