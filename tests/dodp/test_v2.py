"""DAISY Online v2.0.2: logOn with the reading system's attributes, terms of service, the bookshelf, bookmarks."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dodp.conftest import NS, RSA, Fault, Player
from tests.status.helpers import maintenance

BM = "http://www.daisy.org/z3986/2005/bookmark/"


@pytest.fixture()
def player2(client) -> Player:
    return Player(client, "2")


def test_logon_returns_service_attributes_and_the_terms_come_first(player2, card, books):
    with pytest.raises(Fault) as wrong:
        player2.call("logOn", f"<username>{card}</username><password>0000</password>" + RSA.format(lang="sv"))
    assert wrong.value.kind == "unauthorized"
    attrs = player2.log_on(card, lang="sv").find("do:serviceAttributes", NS)
    assert attrs.findtext("do:accessConfig", namespaces=NS) == "STREAM_AND_DOWNLOAD"
    assert attrs.find("do:supportedContentSelectionMethods", NS) is None
    with pytest.raises(Fault) as terms:
        player2.content_list("bookshelf")
    assert terms.value.kind == "termsOfServiceNotAccepted"
    text = player2.call("getTermsOfService").findtext("do:label/do:text", namespaces=NS)
    assert text
    assert player2.result("acceptTermsOfService", "") == "true"
    assert player2.ids("bookshelf") == []
    with pytest.raises(Fault) as v1_list:
        player2.content_list("issued")
    assert v1_list.value.kind == "invalidParameter"
    with pytest.raises(Fault) as v1_only:
        player2.call("setReadingSystemAttributes", "")
    assert v1_only.value.kind == "invalidOperation"
    player2.version = "1"  # the v1 SOAPAction form on a v2 session
    with pytest.raises(Fault) as mixed:
        player2.call("getServiceAttributes")
    assert mixed.value.kind == "invalidOperation"


def test_bookshelf_resources_bookmarks_progress_and_return(app, sm, now, client, player2, card, books):
    player2.log_on(card)
    player2.result("acceptTermsOfService", "")
    book = f"book-{books['mp3']}"
    assert book in player2.ids("new")
    assert player2.result("addContentToBookshelf", f"<contentID>{book}</contentID>") == "true"
    shelf = player2.content_list("bookshelf")
    [item] = shelf.findall("do:contentItem", NS)
    assert item.get("id") == book and item.get("returnBy") and item.get("hasBookmarks") == "false"
    assert item.findtext("do:accessPermission", namespaces=NS) == "STREAM_AND_DOWNLOAD"
    with pytest.raises(Fault) as access:
        player2.call("getContentResources", f"<contentID>{book}</contentID><accessType>COPY</accessType>")
    assert access.value.kind == "invalidParameter"
    resources = player2.call("getContentResources",
                             f"<contentID>{book}</contentID><accessType>DOWNLOAD</accessType>").find("do:resources", NS)
    uri = resources.find("do:resource[@localURI='001.mp3']", NS).get("uri")
    assert client.get(uri.removeprefix("http://localhost"), headers={"Range": "bytes=-10"}).status_code == 206

    def bookmark_object(marks: str) -> str:
        return (f'<bookmarkObject><bookmarkSet xmlns="{BM}"><title><text>t</text></title><uid>u</uid>{marks}'
                "</bookmarkSet></bookmarkObject>")

    lastmark = "<lastmark><ncxRef>ncc.html</ncxRef><URI>001.smil</URI><timeOffset>4.25s</timeOffset></lastmark>"
    one = '<bookmark label="one"><ncxRef>ncc.html</ncxRef><URI>001.smil</URI><timeOffset>1s</timeOffset></bookmark>'
    two = '<bookmark label="two"><ncxRef>ncc.html</ncxRef><URI>001.smil</URI><timeOffset>2s</timeOffset></bookmark>'
    assert player2.result("updateBookmarks", f"<contentID>{book}</contentID><action>REPLACE_ALL</action>"
                                             + bookmark_object(lastmark + one)) == "true"
    assert player2.result("updateBookmarks", f"<contentID>{book}</contentID><action>ADD</action>"
                                             + bookmark_object(two)) == "true"

    def labels(action: str) -> list[str]:
        got = player2.call("getBookmarks", f"<contentID>{book}</contentID><action>{action}</action>")
        return [b.get("label") for b in got.findall("do:bookmarkObject/bm:bookmarkSet/bm:bookmark", NS)]

    assert labels("BOOKMARK") == ["one", "two"]
    assert labels("LASTMARK") == []
    assert player2.result("updateBookmarks", f"<contentID>{book}</contentID><action>REMOVE</action>"
                                             + bookmark_object(one)) == "true"
    assert labels("ALL") == ["two"]
    marks = player2.call("getBookmarks", f"<contentID>{book}</contentID><action>LASTMARK</action>")
    assert marks.findtext("do:bookmarkObject/bm:bookmarkSet/bm:lastmark/bm:timeOffset", namespaces=NS) == \
        "0:00:04.250"
    with pytest.raises(Fault) as outside:
        player2.call("updateBookmarks", f"<contentID>{book}</contentID><action>ADD</action>" + bookmark_object(
            "<lastmark><ncxRef>n</ncxRef><URI>../etc/passwd</URI><timeOffset>1s</timeOffset></lastmark>"))
    assert outside.value.kind == "invalidParameter"

    assert player2.result("setProgressState", f"<contentID>{book}</contentID><state>START</state>") == "true"
    [item] = player2.content_list("bookshelf").findall("do:contentItem", NS)
    assert item.get("lastAccessedDate") and item.get("hasBookmarks") == "true"
    assert item.findtext("bm:lastmark/bm:timeOffset", namespaces=NS) == "0:00:04.250"

    maintenance(app, sm, now, starts_in=timedelta(minutes=30), hours=1)
    app.config["FAKE_NOW"] = (now + timedelta(minutes=40)).isoformat()
    news = player2.call("getServiceAnnouncements").findall("do:announcements/do:announcement", NS)
    assert [(a.get("type"), a.get("priority")) for a in news] == [("SYSTEM", "HIGH")]
    with pytest.raises(Fault) as closed:
        player2.call("returnContent", f"<contentID>{book}</contentID>")
    assert closed.value.kind == "operationFailed"
    app.config["FAKE_NOW"] = (now + timedelta(hours=2)).isoformat()
    assert player2.result("returnContent", f"<contentID>{book}</contentID>") == "true"
    assert player2.ids("bookshelf") == [] and player2.ids("expired") == [book]
