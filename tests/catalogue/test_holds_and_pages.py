"""Holds from a record (API `record_id`, and the record page's form) and the catalogue pages."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Patron
from app.catalogue import marc
from app.catalogue.models import Record
from app.circulation.models import Hold
from tests.catalogue.helpers import book, run_import, write
from tests.circulation import helpers
from tests.factories import login_patron


def setup(app, sm, now, tmp_path):
    path = write(tmp_path / "r.mrc",
                 book("1", "Tuntematon sotilas", isbn="9789510000011", subjects=("jatkosota",),
                      holdings=(marc.Holding("A1", "mikkeli", "", "30.00", "Romaanit", ""),
                                marc.Holding("A2", "savonlinna", "", "30.00", "", ""))),
                 book("2", "Kirja ilman kappaleita", subjects=("jatkosota",)))
    assert run_import(app, str(path)).exit_code == 0
    with sm.begin() as s:
        patron_id = helpers.borrower(s, now, "lumme")
        card = s.get(Patron, patron_id).card_number
        ids = {r.title: r.id for r in s.scalars(select(Record))}
    return patron_id, card, ids


def test_a_patron_places_a_hold_by_record_id(app, client, sm, libraries, now, tmp_path):
    patron_id, card, ids = setup(app, sm, now, tmp_path)
    login_patron(client, card)
    response = client.post("/api/v1/circulation/me/holds", json={"record_id": ids["Tuntematon sotilas"],
                                                                  "pickup_branch": "savonlinna"})
    assert response.status_code == 201, response.get_json()
    with sm() as s:
        hold = s.scalar(select(Hold).where(Hold.patron_id == patron_id))
        assert hold.record_key == "isbn:9789510000011"
    again = client.post("/api/v1/circulation/me/holds", json={"record_id": ids["Tuntematon sotilas"]})
    assert again.status_code == 409 and again.get_json()["reason"] == "already_on_hold"
    missing = client.post("/api/v1/circulation/me/holds", json={"record_id": 999_999})
    assert missing.status_code == 404
    assert client.post("/api/v1/circulation/me/holds", json={"record_id": ids["Kirja ilman kappaleita"]}
                       ).status_code == 404


def test_search_page_lists_with_facets_and_record_page_offers_a_hold(app, client, sm, libraries, now, tmp_path):
    patron_id, card, ids = setup(app, sm, now, tmp_path)
    page = client.get("/catalogue?q=jatkosota").get_data(as_text=True)
    assert "2 records found" in page and "Tuntematon sotilas" in page and 'role="search"' in page
    assert "Narrow the search" in page and "/catalogue?q=jatkosota&amp;available_at=mikkeli" in page
    assert "Nothing was found" in client.get("/catalogue?q=zzzzzz").get_data(as_text=True)
    record_url = f"/catalogue/records/{ids['Tuntematon sotilas']}"
    anonymous = client.get(record_url).get_data(as_text=True)
    assert "Log in to place a hold" in anonymous and "Romaanit" in anonymous
    login_patron(client, card)
    page = client.get(record_url).get_data(as_text=True)
    assert '<option selected value="mikkeli">' in page or 'value="mikkeli" selected' in page
    response = client.post(record_url + "/hold", data={"pickup_branch": "mikkeli"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Hold placed" in text
    again = client.post(record_url + "/hold", data={"pickup_branch": "mikkeli"}, follow_redirects=True)
    assert "The patron already has a hold on this title." in again.get_data(as_text=True)
    with sm() as s:
        assert s.scalar(select(Hold.record_key).where(Hold.patron_id == patron_id)) == "isbn:9789510000011"


def test_pages_speak_finnish_and_survive_hostile_input(app, client, sm, libraries, now, tmp_path):
    setup(app, sm, now, tmp_path)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fi"
    assert client.get("/catalogue?q=jatkosota").status_code == 200
    for query in ("%00", "%ED%A0%80", "x" * 5000, "page=99999999999999999999"):
        assert client.get("/catalogue?q=" + query).status_code == 200
    assert client.get("/catalogue?page=-3&sort=nonsense&material_type=%00").status_code == 200
    assert client.get("/catalogue/records/2147483647").status_code == 404


def test_audiobooks_of_lending_appear_as_e_audiobooks(app, sm, libraries, now):
    from app.catalogue import service
    from app.lending.models import Audiobook

    with sm.begin() as s:
        s.add(Audiobook(identifier="urn:isbn:9789510000097", title="Kuunneltava kirja", author="Ääni, Aino",
                        language="fi", duration=60.0, size=1, storage_prefix="x/", content_hash="0" * 64,
                        added_at=now, updated_at=now))
    with sm.begin() as s:
        assert service.index_audiobooks(s, now) == {"indexed": 1, "removed": 0}
        assert service.index_audiobooks(s, now) == {"indexed": 0, "removed": 0}
    with sm() as s:
        result = service.search(s, service.SearchQuery(text="kuunneltava"))
        [record] = service.records_by_id(s, result.ids)
        assert record.material_type == "e_audiobook" and record.language == "fin"
        assert service.availability(s, [record], now)[record.id].online
    with sm.begin() as s:
        s.scalar(select(Audiobook)).available = False
    with sm.begin() as s:
        assert service.index_audiobooks(s, now)["removed"] == 1


def test_recent_searches_are_listed_and_can_be_cleared(app, client, sm, libraries, now, tmp_path):
    setup(app, sm, now, tmp_path)
    client.get("/catalogue?q=jatkosota")
    client.get("/catalogue?q=tuntematon")
    page = client.get("/catalogue").get_data(as_text=True)
    assert "Your recent searches" in page
    assert page.index("?q=tuntematon") < page.index("?q=jatkosota")  # newest first
    cleared = client.post("/catalogue/recent-searches/clear", follow_redirects=True).get_data(as_text=True)
    assert "Your recent searches were cleared." in cleared and "?q=jatkosota" not in cleared
