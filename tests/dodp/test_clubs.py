"""My club books: what an online book club put on a member's shelf, as a menu choice of DAISY players."""
from __future__ import annotations

from app import scheduler
from app.accounts.models import Patron
from tests.cdclub.test_online import DELIVER, DELIVERY_DAY, online_run  # noqa: F401  (the fixture)
from tests.dodp.conftest import NS, Player
from tests.dodp.test_v1 import menu


def test_club_deliveries_are_a_menu_of_their_own(app, sm, client, online_run, books):  # noqa: F811
    assert scheduler.run_job(app, DELIVER, DELIVERY_DAY).summary == "1 runs shipped, 8 loans"
    app.config["FAKE_NOW"] = DELIVERY_DAY.isoformat()
    with sm() as s:
        card = s.get(Patron, online_run["patron_ids"][0]).card_number
    player = Player(client)
    player.set_up(card)
    assert player.result("issueContent", f"<contentID>book-{books['mp3']}</contentID>") == "true"  # not a club's
    main = menu(player, "default")
    assert "clubs" in [c.get("id") for c in main.findall("do:multipleChoiceQuestion/do:choices/do:choice", NS)]
    assert menu(player, "main", "clubs").findtext("do:contentListRef", namespaces=NS) == "clubs"
    clubs = player.content_list("clubs")
    assert sorted(i.findtext("do:label/do:text", namespaces=NS) for i in clubs.findall("do:contentItem", NS)) == \
        ["Romaani kaksi, Kirjailija", "Romaani yksi, Kirjailija"]
    assert len(player.ids("issued")) == 3
