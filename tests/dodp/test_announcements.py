"""Announcements from the status page, and the Reader apps gate: borrowing closes, playing goes on."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dodp.conftest import NS, Fault
from tests.status.helpers import maintenance


def announcements(player):
    node = player.call("getServiceAnnouncements").find("do:announcements", NS)
    return [(a.get("id"), a.get("type"), a.find("do:label", NS).get("{http://www.w3.org/XML/1998/namespace}lang"),
             a.findtext("do:label/do:text", namespaces=NS)) for a in node.findall("do:announcement", NS)]


def test_a_planned_break_is_announced_in_the_players_language_until_read(app, sm, now, player, card):
    window = maintenance(app, sm, now, starts_in=timedelta(days=2), hours=3)
    maintenance(app, sm, now, starts_in=timedelta(days=3), components=("registration",))  # not for players
    player.set_up(card, lang="fi")
    [(key, kind, lang, text)] = announcements(player)
    assert (key, kind, lang) == (f"maintenance-{window}", "INFORMATION", "fi")
    assert "Järjestelmän päivitys" in text
    with pytest.raises(Fault) as unknown:
        player.call("markAnnouncementsAsRead", "<read><item>maintenance-999</item></read>")
    assert unknown.value.kind == "invalidParameter"
    assert player.result("markAnnouncementsAsRead", f"<read><item>{key}</item></read>") == "true"
    assert announcements(player) == []


def test_during_a_break_borrowing_is_refused_and_loans_keep_playing(app, sm, now, client, player, card, books):
    book = f"book-{books['mp3']}"
    player.set_up(card, lang="en")
    assert player.result("issueContent", f"<contentID>{book}</contentID>") == "true"
    maintenance(app, sm, now, starts_in=timedelta(hours=1), hours=2)
    app.config["FAKE_NOW"] = (now + timedelta(hours=1, minutes=5)).isoformat()
    [(key, kind, lang, text)] = announcements(player)
    assert kind == "WARNING" and lang == "en" and "System upgrade" in text and "keep playing" in text
    with pytest.raises(Fault) as closed:
        player.call("issueContent", f"<contentID>book-{books['daisy']}</contentID>")
    assert closed.value.kind == "internalServerError" and "System upgrade" in closed.value.reason
    resources = player.call("getContentResources", f"<contentID>{book}</contentID>").find("do:resources", NS)
    first = resources.find("do:resource", NS)
    got = client.get(first.get("uri").removeprefix("http://localhost"), headers={"Range": "bytes=0-9"})
    assert got.status_code == 206 and len(got.data) == 10
    assert player.ids("issued") == [book]
