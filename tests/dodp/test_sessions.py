"""A player's session ends when the patron's PIN changes; faults speak the patron's language."""
from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from app.lending.dodp.soap import SOAP_ENV
from tests import factories
from tests.dodp.conftest import Fault, Player, envelope
from tests.status.helpers import maintenance


def test_a_changed_pin_ends_the_players_session(app, player, card, books):
    player.set_up(card)
    assert player.result("issueContent", f"<contentID>book-{books['mp3']}</contentID>") == "true"
    assert player.ids("issued") == [f"book-{books['mp3']}"]
    web = app.test_client()
    factories.login_patron(web, card)
    resp = web.post("/account/pin", data={"current": factories.PIN, "pin": "4321", "pin_again": "4321"})
    assert resp.status_code == 302
    with pytest.raises(Fault) as ended:
        player.content_list("issued")
    assert ended.value.kind == "noActiveSession"
    with pytest.raises(Fault) as ended_too:
        player.call("getBookmarks", f"<contentID>book-{books['mp3']}</contentID>")
    assert ended_too.value.kind == "noActiveSession"
    assert player.log_on(card) is False  # the old PIN
    assert player.log_on(card, "4321") is True
    player.call("getServiceAttributes")


def test_a_pin_set_by_a_reset_link_or_at_the_desk_ends_the_session_too(sm, now, player, card):
    from sqlalchemy import select

    from app.accounts import service as accounts
    from app.accounts.models import Patron

    player.set_up(card)
    with sm.begin() as s:
        patron = s.scalar(select(Patron).where(Patron.card_number == card))
        accounts.set_patron_secret(s, patron, pin="5678", now=now, actor="system:test")
    with pytest.raises(Fault) as ended:
        player.content_list("issued")
    assert ended.value.kind == "noActiveSession"


@pytest.mark.parametrize(("lang", "words"), [("fi", "Kirjaudu"), ("sv", "Logga"), ("en", "log on")])
def test_a_fault_before_logon_speaks_the_accept_language(client, lang, words):
    resp = client.post("/daisy-online", data=envelope('<getServiceAttributes xmlns="http://www.daisy.org/ns/'
                                                      'daisy-online/"/>'),
                       headers={"Content-Type": "text/xml", "SOAPAction": '"/getServiceAttributes"',
                                "Accept-Language": lang})
    root = etree.fromstring(resp.data)
    reason = root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/detail/{{*}}noActiveSessionFault/{{*}}reason")
    assert words.lower() in reason.lower()


def test_a_fault_in_a_session_speaks_the_players_language(app, sm, now, client, card, books):
    player = Player(client)
    player.set_up(card, lang="sv")
    maintenance(app, sm, now, starts_in=timedelta(minutes=30), hours=1)
    app.config["FAKE_NOW"] = (now + timedelta(minutes=40)).isoformat()
    with pytest.raises(Fault) as closed:
        player.call("issueContent", f"<contentID>book-{books['mp3']}</contentID>")
    assert closed.value.kind == "internalServerError"
    assert closed.value.reason.startswith("Lån och återlämning är stängda")
