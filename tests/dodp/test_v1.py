"""DAISY Online v1: a player's session against the lending service, every answer valid against the XSD."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from tests import factories
from tests.dodp.conftest import NS, Fault, Player
from tests.lending.conftest import make_reader


def test_the_wsdl_carries_our_address_and_its_schemas_are_served(client):
    resp = client.get("/daisy-online?wsdl")
    assert resp.status_code == 200 and b"definitions" in resp.data
    assert b'location="http://localhost/daisy-online"' in resp.data
    assert b"SERVICE_WSDL_URI_PLACEHOLDER" not in resp.data
    types = client.get("/daisy-online/schemas/1/do-types-10.xsd")
    assert types.status_code == 200 and b"readingSystemAttributes" in types.data
    assert b'schemaLocation="http://localhost/daisy-online/schemas/1/dc.xsd"' in types.data
    assert b"urn:http://www.daisy.org/ns/daisy-online/logOn" in client.get("/daisy-online?wsdl=2").data
    assert client.get("/daisy-online/schemas/1/..%2F..%2Fviews.py").status_code == 404
    assert client.get("/daisy-online").status_code == 404


def test_logon_with_card_and_pin_and_the_set_up_order(player, card):
    assert player.log_on(card, "9999") is False
    with pytest.raises(Fault) as no_session:
        player.call("getServiceAttributes")
    assert no_session.value.kind == "noActiveSession"
    assert player.log_on(card) is True
    with pytest.raises(Fault) as early:
        player.content_list("issued")
    assert early.value.kind == "invalidOperation"
    with pytest.raises(Fault) as order:
        player.call("setReadingSystemAttributes", "<readingSystemAttributes/>")
    assert order.value.kind == "invalidOperation"
    attrs = player.call("getServiceAttributes").find("do:serviceAttributes", NS)
    assert [m.text for m in attrs.findall("do:supportedContentSelectionMethods/do:method", NS)] == \
        ["OUT_OF_BAND", "BROWSE"]
    assert {o.text for o in attrs.findall("do:supportedOptionalOperations/do:operation", NS)} == \
        {"SET_BOOKMARKS", "GET_BOOKMARKS", "DYNAMIC_MENUS", "SERVICE_ANNOUNCEMENTS"}
    player.set_up(card)
    assert player.ids("issued") == []
    assert player.result("logOff", "") == "true"
    with pytest.raises(Fault) as ended:
        player.content_list("issued")
    assert ended.value.kind == "noActiveSession"


def test_wrong_pins_lock_the_card_as_on_the_web(player, card, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert player.log_on(card, "0000") is False
    assert player.log_on(card) is False  # locked for a while, even with the right PIN


def test_sessions_expire_and_a_v2_action_cannot_use_a_v1_session(player, card, app, now):
    player.set_up(card)
    player.version = "2"
    with pytest.raises(Fault) as other:
        player.content_list("bookshelf")
    assert other.value.kind == "invalidOperation"
    player.version = "1"
    app.config["FAKE_NOW"] = (now + timedelta(hours=13)).isoformat()
    with pytest.raises(Fault) as expired:
        player.content_list("issued")
    assert expired.value.kind == "noActiveSession"


def menu(player: Player, question: str, value: str = "") -> object:
    value_attr = f' value="{value}"' if value else ""
    return player.call("getQuestions", f'<userResponses><userResponse questionID="{question}"{value_attr}/>'
                                       "</userResponses>").find("do:questions", NS)


def test_borrow_through_the_menus_download_bookmark_and_return(client, player, card, books, sm, now):
    player.set_up(card)
    main = menu(player, "default")
    choices = [c.get("id") for c in main.findall("do:multipleChoiceQuestion/do:choices/do:choice", NS)]
    assert choices == ["search", "new", "mine", "clubs", "expired"]  # clubs: the cdclub package is installed
    search = menu(player, "main", "search")
    assert search.find("do:inputQuestion", NS).get("id") == "search-text"
    ref = menu(player, "search-text", "saga").findtext("do:contentListRef", namespaces=NS)
    found = player.content_list(ref)
    assert [i.get("id") for i in found.findall("do:contentItem", NS)] == [f"book-{books['daisy']}"]
    assert "En liten saga" in found.findtext("do:contentItem/do:label/do:text", namespaces=NS)
    assert menu(player, "main", "new").findtext("do:contentListRef", namespaces=NS) == "new"
    assert f"book-{books['daisy']}" in player.ids("new")

    book = f"book-{books['daisy']}"
    with pytest.raises(Fault) as not_issued:
        player.call("getContentResources", f"<contentID>{book}</contentID>")
    assert not_issued.value.kind == "invalidOperation"
    assert player.result("issueContent", f"<contentID>{book}</contentID>") == "true"
    assert player.result("issueContent", f"<contentID>{book}</contentID>") == "true"  # already issued
    assert player.ids("issued") == [book]
    assert book not in player.ids("new")

    meta = player.call("getContentMetadata", f"<contentID>{book}</contentID>").find("do:contentMetadata", NS)
    assert meta.get("requiresReturn") == "true"
    assert meta.findtext("do:metadata/dc:title", namespaces=NS) == "En liten saga"

    resources = player.call("getContentResources", f"<contentID>{book}</contentID>").find("do:resources", NS)
    assert resources.get("returnBy", "").startswith(str((now + timedelta(days=28)).date()))
    listed = {r.get("localURI"): r for r in resources.findall("do:resource", NS)}
    assert "ncc.html" in listed and "001.smil" in listed and "001.mp3" in listed
    ncc = client.get(listed["ncc.html"].get("uri").removeprefix("http://localhost"))
    assert ncc.status_code == 200 and int(listed["ncc.html"].get("size")) == len(ncc.data)
    assert b"Daisy 2.02" in ncc.data and b"001.smil#p_1" in ncc.data
    audio = listed["001.mp3"]
    part = client.get(audio.get("uri").removeprefix("http://localhost"), headers={"Range": "bytes=10-109"})
    assert part.status_code == 206 and len(part.data) == 100 and audio.get("mimeType") == "audio/mpeg"
    assert part.headers["Content-Range"] == f"bytes 10-109/{audio.get('size')}"
    assert client.get(audio.get("uri").removeprefix("http://localhost"),
                      headers={"Range": "bytes=99999999-"}).status_code == 416

    smil = client.get(listed["002.smil"].get("uri").removeprefix("http://localhost")).data.decode()
    par = smil.split('<par endsync="last" id="')[1].split('"')[0]
    bookmark = (f'<bookmarkSet xmlns="http://www.daisy.org/z3986/2005/bookmark/"><title><text>En liten saga</text>'
                f'</title><uid>x</uid><lastmark><ncxRef>ncc.html</ncxRef><URI>002.smil#{par}</URI>'
                '<timeOffset>0:00:01.250</timeOffset></lastmark>'
                '<bookmark label="mine"><ncxRef>ncc.html</ncxRef><URI>001.smil</URI><timeOffset>2s</timeOffset>'
                '</bookmark></bookmarkSet>')
    assert player.result("setBookmarks", f"<contentID>{book}</contentID>{bookmark}") == "true"
    reader = make_reader(client, sm, now, "reader-app@test.kuulo")
    # The reader API shows the same position to the same patron.
    basic = {"Authorization": "Basic " + base64.b64encode(f"{card}:{factories.PIN}".encode()).decode()}
    position = client.get(f"/api/v1/books/{books['daisy']}/position", headers=basic).json["position"]
    assert position["track"] == 2 and abs(position["offset"] - (1.25 + _par_start(smil, par))) < 0.01
    assert reader.patron_id  # another patron sees nothing of it
    assert reader.get(f"/api/v1/books/{books['daisy']}/position").status_code == 403

    marks = player.call("getBookmarks", f"<contentID>{book}</contentID>").find("bm:bookmarkSet", NS)
    assert marks.findtext("bm:lastmark/bm:URI", namespaces=NS) == f"002.smil#{par}"
    assert marks.find("bm:bookmark", NS).get("label") == "mine"

    assert player.result("returnContent", f"<contentID>{book}</contentID>") == "true"
    assert player.result("returnContent", f"<contentID>{book}</contentID>") == "true"
    assert player.ids("issued") == [] and player.ids("expired") == [book]
    assert client.get(audio.get("uri").removeprefix("http://localhost")).status_code == 403


def _par_start(smil: str, par: str) -> float:
    chunk = smil.split(f'id="{par}"')[1]
    return float(chunk.split('clip-begin="npt=')[1].split("s")[0])


def test_content_list_ranges_and_bad_parameters(player, card, books):
    player.set_up(card)
    for book_id in books.values():
        assert player.result("issueContent", f"<contentID>book-{book_id}</contentID>") == "true"
    whole = player.content_list("issued")
    assert whole.get("totalItems") == "3" and whole.get("firstItem") is None
    page = player.content_list("issued", 1, 1)
    assert (page.get("totalItems"), page.get("firstItem"), page.get("lastItem")) == ("3", "1", "1")
    assert len(page.findall("do:contentItem", NS)) == 1
    for list_id, first, last in (("nosuch", 0, -1), ("issued", 2, 1), ("issued", -1, 3), ("search-zz", 0, -1)):
        with pytest.raises(Fault) as bad:
            player.content_list(list_id, first, last)
        assert bad.value.kind == "invalidParameter"
    for content in ("book-99999", "isbn", "book-1e3", "book-" + "9" * 40):
        with pytest.raises(Fault) as bad:
            player.call("issueContent", f"<contentID>{content}</contentID>")
        assert bad.value.kind == "invalidParameter"
    with pytest.raises(Fault) as big:
        player.call("getContentList", "<id>issued</id><firstItem>99999999999</firstItem><lastItem>-1</lastItem>")
    assert big.value.kind == "invalidParameter"
    with pytest.raises(Fault) as keys:
        player.call("getKeyExchangeObject", "<requestedKeyName>k</requestedKeyName>")
    assert keys.value.kind == "operationNotSupported"


def test_a_revoked_session_ends_and_old_sessions_are_forgotten(app, sm, now, player, card):
    from sqlalchemy import func, select

    from app import scheduler
    from app.lending.dodp import service as dodp
    from app.lending.dodp.models import DodpSession

    player.set_up(card)
    with sm.begin() as s:
        patron_id = s.scalar(select(DodpSession.patron_id))
        assert dodp.revoke_sessions(s, patron_id, now) == 1
    with pytest.raises(Fault) as revoked:
        player.content_list("issued")
    assert revoked.value.kind == "noActiveSession"
    assert scheduler.run_job(app, "dodp-forget-sessions", now + timedelta(hours=23)).summary.startswith("0 ")
    assert scheduler.run_job(app, "dodp-forget-sessions", now + timedelta(days=2)).summary.startswith("1 ")
    with sm() as s:
        assert s.scalar(select(func.count()).select_from(DodpSession)) == 0
