"""Favourites lists (Tampere's [003]): a patron saves titles from the results and the record page, keeps
lists (private or public with a revocable share link), notes and keywords, sorts, moves and copies,
exports RIS and sends a list by email through the outbox; the session's recent searches; the age-limit facet."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts.models import Patron
from app.catalogue import lists, marc
from app.catalogue.lists_models import FavouriteEntry, FavouriteList
from app.catalogue.models import Record
from app.notify.models import OutboxMessage
from tests.catalogue.helpers import book, run_import, write
from tests.circulation import helpers
from tests.factories import login_patron


def setup(app, sm, now, tmp_path):
    path = write(tmp_path / "r.mrc",
                 book("1", "Tuntematon sotilas", author="Linna, Väinö", isbn="9789510000011",
                      subjects=("jatkosota",), year=1954,
                      holdings=(marc.Holding("A1", "mikkeli", "", "30.00", "Romaanit", ""),)),
                 book("2", "Ahdistus ja rauha", author="Aalto, Aino", subjects=("jatkosota",), year=2001),
                 book("3", "Kesäpeli", author="Björk, Bo", leader_type="m", fixed_extra={26: "g"}, age_rating=16,
                      subjects=("jatkosota",), year=2019),
                 book("4", "Lastenpeli", author="Ceder, Cia", leader_type="m", fixed_extra={26: "g"}, age_rating=7,
                      subjects=("jatkosota",), year=2018))
    assert run_import(app, str(path)).exit_code == 0
    with sm.begin() as s:
        patron_id = helpers.borrower(s, now, "lumme")
        other_id = helpers.borrower(s, now, "lumme")
        cards = {pid: s.get(Patron, pid).card_number for pid in (patron_id, other_id)}
        ids = {r.title: r.id for r in s.scalars(select(Record))}
    return patron_id, other_id, cards, ids


def _lists(sm, patron_id):
    with sm() as s:
        return {lst.name: lst.id for lst in s.scalars(select(FavouriteList).where(FavouriteList.patron_id == patron_id))}


def _entries(sm, list_id):
    with sm() as s:
        return {e.record_id: e for e in s.scalars(select(FavouriteEntry).where(FavouriteEntry.list_id == list_id))}


def test_saving_from_results_and_record_page_makes_my_favourites(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards, ids = setup(app, sm, now, tmp_path)
    anonymous = client.get(f"/catalogue/records/{ids['Tuntematon sotilas']}").get_data(as_text=True)
    assert "Log in to save this title to your favourites" in anonymous
    assert client.post("/catalogue/lists/add", data={"record_id": ids["Tuntematon sotilas"]}).status_code == 302
    login_patron(client, cards[patron_id])
    page = client.get("/catalogue?q=jatkosota").get_data(as_text=True)
    assert page.count("Save to favourites") == 4 and "Your favourites lists" in page
    response = client.post("/catalogue/lists/add", data={"record_id": ids["Tuntematon sotilas"],
                                                         "next": "/catalogue?q=jatkosota"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/catalogue?q=jatkosota")
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved to your list “My favourites”." in followed
    record_page = client.get(f"/catalogue/records/{ids['Ahdistus ja rauha']}").get_data(as_text=True)
    assert "Save to favourites" in record_page
    client.post("/catalogue/lists/add", data={"record_id": ids["Ahdistus ja rauha"],
                                              "next": f"/catalogue/records/{ids['Ahdistus ja rauha']}"})
    again = client.post("/catalogue/lists/add", data={"record_id": ids["Ahdistus ja rauha"], "next": "//evil.example"},
                        follow_redirects=True)
    assert "already" in again.get_data(as_text=True) and again.request.path == "/catalogue"
    assert set(_entries(sm, _lists(sm, patron_id)["My favourites"])) == {ids["Tuntematon sotilas"],
                                                                          ids["Ahdistus ja rauha"]}
    assert client.post("/catalogue/lists/add", data={"record_id": "999999"}, follow_redirects=True
                       ).status_code == 200


def test_lists_are_created_renamed_shared_revoked_and_deleted(app, client, sm, libraries, now, tmp_path):
    patron_id, other_id, cards, ids = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    assert "You have no lists yet" in client.get("/catalogue/lists").get_data(as_text=True)
    response = client.post("/catalogue/lists", data={"name": "  Sotakirjat  ", "description": "Kesäksi"})
    assert response.status_code == 303
    list_id = _lists(sm, patron_id)["Sotakirjat"]
    duplicate = client.post("/catalogue/lists", data={"name": "sotakirjat"})
    assert duplicate.status_code == 409 and "already have a list with that name" in duplicate.get_data(as_text=True)
    assert client.post("/catalogue/lists", data={"name": "   "}).status_code == 422
    client.post("/catalogue/lists/add", data={"record_id": ids["Tuntematon sotilas"], "list_id": str(list_id)})
    page = client.get(f"/catalogue/lists/{list_id}").get_data(as_text=True)
    assert "Private list" in page and "Tuntematon sotilas" in page and "Share link" not in page
    # made public: a share link anyone can read without logging in, never naming the patron
    client.post(f"/catalogue/lists/{list_id}/edit", data={"name": "Sota", "description": "", "public": "y"})
    with sm() as s:
        token = s.get(FavouriteList, list_id).share_token
    assert token and len(token) >= 30
    anonymous = app.test_client()
    shared = anonymous.get(f"/catalogue/lists/shared/{token}")
    assert shared.status_code == 200 and "Tuntematon sotilas" in shared.get_data(as_text=True)
    assert "Test Patron" not in shared.get_data(as_text=True)
    # a new link revokes the old one; making the list private revokes every link
    client.post(f"/catalogue/lists/{list_id}/share-link")
    with sm() as s:
        new_token = s.get(FavouriteList, list_id).share_token
    assert new_token != token
    assert anonymous.get(f"/catalogue/lists/shared/{token}").status_code == 404
    assert anonymous.get(f"/catalogue/lists/shared/{new_token}").status_code == 200
    client.post(f"/catalogue/lists/{list_id}/edit", data={"name": "Sota", "description": "", "public": ""})
    assert anonymous.get(f"/catalogue/lists/shared/{new_token}").status_code == 404
    assert anonymous.get("/catalogue/lists/shared/" + "x" * 32).status_code == 404
    # another patron cannot see, change or delete it
    other = app.test_client()
    login_patron(other, cards[other_id])
    assert other.get(f"/catalogue/lists/{list_id}").status_code == 404
    assert other.post(f"/catalogue/lists/{list_id}/edit", data={"name": "Minun"}).status_code == 404
    assert other.post(f"/catalogue/lists/{list_id}/delete").status_code == 404
    assert other.get(f"/catalogue/lists/{list_id}/export.ris").status_code == 404
    # deleting asks first
    assert "Delete the list “Sota”?" in client.get(f"/catalogue/lists/{list_id}/delete").get_data(as_text=True)
    deleted = client.post(f"/catalogue/lists/{list_id}/delete", follow_redirects=True)
    assert "The list “Sota” was deleted." in deleted.get_data(as_text=True)
    assert _lists(sm, patron_id) == {}
    with sm() as s:
        assert s.scalar(select(FavouriteEntry)) is None


def test_notes_keywords_sorting_moving_and_copying(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards, ids = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    for title in ("Tuntematon sotilas", "Kesäpeli", "Ahdistus ja rauha"):
        client.post("/catalogue/lists/add", data={"record_id": ids[title]})
    client.post("/catalogue/lists", data={"name": "Lukupiiri"})
    names = _lists(sm, patron_id)
    mine, circle = names["My favourites"], names["Lukupiiri"]
    entry = _entries(sm, mine)[ids["Tuntematon sotilas"]]
    edit_url = f"/catalogue/lists/{mine}/entries/{entry.id}/edit"
    assert "Note and keywords: Tuntematon sotilas" in client.get(edit_url).get_data(as_text=True)
    saved = client.post(edit_url, data={"note": "Lue ensin\nsitten elokuva", "keywords": "sota, klassikko, Sota, "})
    assert saved.status_code == 303
    entry = _entries(sm, mine)[ids["Tuntematon sotilas"]]
    assert entry.note == "Lue ensin\nsitten elokuva" and entry.keywords == ["sota", "klassikko"]
    too_many = client.post(edit_url, data={"note": "", "keywords": ",".join(f"k{n}" for n in range(30))})
    assert too_many.status_code == 422 and "at most 20 keywords" in too_many.get_data(as_text=True)

    def order(sort):
        text = client.get(f"/catalogue/lists/{mine}?sort={sort}").get_data(as_text=True)
        return [t for t in re.findall(r'<label for="pick-\d+"[^>]*>([^<]+)</label>', text)]

    assert order("title") == ["Ahdistus ja rauha", "Kesäpeli", "Tuntematon sotilas"]
    assert order("author") == ["Ahdistus ja rauha", "Kesäpeli", "Tuntematon sotilas"]  # Aalto, Björk, Linna
    assert order("material_type") == ["Ahdistus ja rauha", "Tuntematon sotilas", "Kesäpeli"]  # books, then game
    assert len(order("added")) == 3 and len(order("nonsense")) == 3
    # copy keeps the note; a move of a title the target has leaves the target's copy
    e = _entries(sm, mine)
    copied = client.post(f"/catalogue/lists/{mine}/entries",
                         data={"action": "copy", "target": str(circle), "entry": [str(e[ids["Tuntematon sotilas"]].id)]},
                         follow_redirects=True)
    assert "1 title was copied to “Lukupiiri”." in copied.get_data(as_text=True)
    assert _entries(sm, circle)[ids["Tuntematon sotilas"]].note == "Lue ensin\nsitten elokuva"
    moved = client.post(f"/catalogue/lists/{mine}/entries",
                        data={"action": "move", "target": str(circle),
                              "entry": [str(e[ids["Tuntematon sotilas"]].id), str(e[ids["Kesäpeli"]].id)]},
                        follow_redirects=True)
    assert "1 title was moved to “Lukupiiri”." in moved.get_data(as_text=True)
    assert set(_entries(sm, mine)) == {ids["Ahdistus ja rauha"]}
    assert set(_entries(sm, circle)) == {ids["Tuntematon sotilas"], ids["Kesäpeli"]}
    removed = client.post(f"/catalogue/lists/{circle}/entries",
                          data={"action": "remove", "entry": [str(x.id) for x in _entries(sm, circle).values()]},
                          follow_redirects=True)
    assert "2 titles were removed from the list." in removed.get_data(as_text=True)
    # hostile or empty choices answer 4xx with words, never 5xx
    assert client.post(f"/catalogue/lists/{mine}/entries", data={"action": "move", "target": str(mine),
                                                                 "entry": [str(_entries(sm, mine)[ids["Ahdistus ja rauha"]].id)]}
                       ).status_code == 422
    assert client.post(f"/catalogue/lists/{mine}/entries", data={"action": "remove"}).status_code == 422
    assert client.post(f"/catalogue/lists/{mine}/entries", data={"action": "explode", "entry": "1"}).status_code == 400
    assert client.post(f"/catalogue/lists/{mine}/entries", data={"action": "copy", "target": "99999999999",
                                                                 "entry": "1"}).status_code == 404
    assert client.post(f"/catalogue/lists/{mine}/entries", data={"action": "remove", "entry": ["x", "-1", "9" * 30]}
                       ).status_code == 422


def test_ris_export_has_the_tags_reference_managers_read(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards, ids = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    client.post("/catalogue/lists/add", data={"record_id": ids["Tuntematon sotilas"]})
    client.post("/catalogue/lists/add", data={"record_id": ids["Kesäpeli"]})
    list_id = _lists(sm, patron_id)["My favourites"]
    entry = _entries(sm, list_id)[ids["Tuntematon sotilas"]]
    client.post(f"/catalogue/lists/{list_id}/entries/{entry.id}/edit",
                data={"note": "Rivi\nER  - TY  - HACK", "keywords": "sota"})
    response = client.get(f"/catalogue/lists/{list_id}/export.ris")
    assert response.status_code == 200
    assert response.mimetype == "application/x-research-info-systems"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "\r\n" in text
    references = [r for r in text.split("ER  - \r\n") if r.strip()]
    assert len(references) == 2
    first = dict(line.split("  - ", 1) for line in references[1].strip().split("\r\n"))
    tags = [line[:2] for line in text.strip().split("\r\n") if line]
    assert tags.count("TY") == 2 and tags.count("ER") == 2
    assert first["TY"] == "BOOK" and first["TI"] == "Tuntematon sotilas" and first["AU"] == "Linna, Väinö"
    assert first["PY"] == "1954" and first["SN"] == "9789510000011" and first["LA"] == "fi"
    assert first["N1"] == "Rivi ER - TY - HACK"  # a note cannot start tags of its own
    assert first["UR"].endswith(f"/catalogue/records/{ids['Tuntematon sotilas']}")
    game = dict(line.split("  - ", 1) for line in references[0].strip().split("\r\n"))
    assert game["TY"] == "COMP" and game["TI"] == "Kesäpeli"


def test_ris_types_follow_the_material():
    rec = Record(title="T", subtitle="S", authors=[{"name": "A", "role": "author"}, {"name": "E", "role": "editor"}],
                 year=2020, isbns=[], issns=["12345679"], publisher="P", edition="2.", language="swe",
                 material_type="dvd", subjects=["s"], id=1)
    text = lists.ris([(FavouriteEntry(note="", keywords=[]), rec)])
    assert text.startswith("TY  - VIDEO\r\nTI  - T: S\r\nAU  - A\r\nED  - E\r\nPY  - 2020\r\nSN  - 12345679\r\n")
    assert "LA  - sv" in text and "PB  - P" in text and text.endswith("ER  - \r\n\r\n")
    for material, ty in (("audiobook_cd", "SOUND"), ("music_cd", "MUSIC"), ("magazine", "JFULL"),
                         ("object", "GEN"), ("large_print", "BOOK")):
        rec.material_type = material
        assert lists.ris([(FavouriteEntry(note="", keywords=[]), rec)]).startswith(f"TY  - {ty}\r\n")
    assert lists.ris([]) == ""


def test_a_list_is_emailed_through_the_outbox_once_per_click(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards, ids = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    client.post("/catalogue/lists/add", data={"record_id": ids["Tuntematon sotilas"]})
    list_id = _lists(sm, patron_id)["My favourites"]
    sent = client.post(f"/catalogue/lists/{list_id}/email", data={"email": "ystava@example.fi"}, follow_redirects=True)
    assert "The list is on its way to ystava@example.fi." in sent.get_data(as_text=True)
    twice = client.post(f"/catalogue/lists/{list_id}/email", data={"email": "YSTAVA@example.fi"}, follow_redirects=True)
    assert "a moment ago already" in twice.get_data(as_text=True)
    with sm() as s:
        messages = s.scalars(select(OutboxMessage)).all()
    assert len(messages) == 1
    mail = messages[0]
    assert mail.recipient == "ystava@example.fi" and mail.template == "catalogue_list"
    assert "My favourites" in mail.subject and "Tuntematon sotilas" in mail.body
    assert f"/catalogue/records/{ids['Tuntematon sotilas']}" in mail.body
    for bad in ("", "not-an-address", "a@b", "x@example.fi\r\nBcc: y@example.fi", "<a@example.fi>"):
        response = client.post(f"/catalogue/lists/{list_id}/email", data={"email": bad})
        assert response.status_code == 422, bad
        assert "Give a valid email address" in response.get_data(as_text=True)
    client.post("/catalogue/lists", data={"name": "Tyhjä"})
    empty = client.post(f"/catalogue/lists/{_lists(sm, patron_id)['Tyhjä']}/email", data={"email": "a@example.fi"})
    assert empty.status_code == 422


def test_the_daily_email_limit(app, sm, libraries, now, tmp_path):
    patron_id, _other, _cards, ids = setup(app, sm, now, tmp_path)
    with app.test_request_context(), sm.begin() as s:
        lst, _ = lists.add_record(s, patron_id=patron_id, record_id=ids["Kesäpeli"], list_id=None,
                                  default_name="Suosikit", now=now)
        for n in range(lists.MAIL_PER_DAY):
            assert lists.email_list(s, patron_id=patron_id, list_id=lst.id, recipient=f"r{n}@example.fi",
                                    language="fi", now=now, link=lambda r: "x")
        with pytest.raises(lists.DomainError) as refused:
            lists.email_list(s, patron_id=patron_id, list_id=lst.id, recipient="one.more@example.fi", language="fi",
                             now=now, link=lambda r: "x")
        assert refused.value.status == 429


def test_hostile_list_input_gets_4xx(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards, ids = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    long_name = client.post("/catalogue/lists", data={"name": "x" * 5000, "description": "\x00\x01" + "d" * 9000})
    assert long_name.status_code == 303
    with sm() as s:
        lst = s.scalar(select(FavouriteList))
        assert len(lst.name) == 100 and len(lst.description) == 1000 and "\x00" not in lst.description
    assert client.post("/catalogue/lists", data={"name": "<script>alert(1)</script>"}).status_code == 303
    page = client.get("/catalogue/lists").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert client.get("/catalogue/lists/99999").status_code == 404
    assert client.post("/catalogue/lists/add", data={"record_id": "1e9", "list_id": "abc"}).status_code == 303
    assert client.get("/catalogue/lists/1/entries/99999/edit").status_code == 404
    assert client.post(f"/catalogue/lists/{lst.id}/share-link").status_code == 303  # private: refused in words
    for _ in range(lists.MAX_LISTS - 2):
        client.post("/catalogue/lists", data={"name": f"L{_}"})
    assert client.post("/catalogue/lists", data={"name": "One too many"}).status_code == 409


def test_recent_searches_keep_ten_and_each_can_be_removed(app, client, sm, libraries, now, tmp_path):
    setup(app, sm, now, tmp_path)
    for n in range(12):
        client.get(f"/catalogue?q=haku{n}")
    client.get("/catalogue?q=jatkosota&material_type=book")
    page = client.get("/catalogue").get_data(as_text=True)
    assert "Your recent searches" in page
    assert "haku1<" not in page and "haku2" not in page and "haku11" in page
    assert "“jatkosota” · Material type: Book" in page
    assert len(re.findall(r'name="search" value="', page)) == 10
    removed = client.post("/catalogue/recent-searches/delete", data={"search": "q=jatkosota&material_type=book"},
                          follow_redirects=True).get_data(as_text=True)
    assert "removed from your recent searches" in removed and "Material type: Book" not in removed
    assert client.post("/catalogue/recent-searches/delete", data={"search": "\x00" * 3000}).status_code == 302
    cleared = client.post("/catalogue/recent-searches/clear", follow_redirects=True).get_data(as_text=True)
    assert "Your recent searches were cleared." in cleared and 'name="search"' not in cleared


def test_age_limit_facet_is_shown_and_filters(app, client, sm, libraries, now, tmp_path):
    setup(app, sm, now, tmp_path)
    page = client.get("/catalogue?q=jatkosota").get_data(as_text=True)
    assert "Age limit" in page
    # two books without a rating plus the 7 game; then all four
    assert "Age limit 7 or lower (3)" in page and "Age limit 16 or lower (4)" in page
    limited = client.get("/catalogue?q=jatkosota&age_rating=7").get_data(as_text=True)
    assert "3 records found" in limited and "Kesäpeli" not in limited and "Lastenpeli" in limited
    assert 'name="age_rating" value="7"' in limited
    assert client.get("/catalogue?q=jatkosota&age_rating=seitsemän").status_code == 200
    assert client.get("/catalogue?q=jatkosota&age_rating=99999999999999").status_code == 200


def test_record_page_has_a_place_for_the_stack_request(app, client, sm, libraries, now, tmp_path):
    _patron, _other, _cards, ids = setup(app, sm, now, tmp_path)
    source = (app.jinja_loader.get_source(app.jinja_env, "catalogue/record.html")[0])
    assert '{% include "circulation/account/_stack_request.html" ignore missing %}' in source
    assert client.get(f"/catalogue/records/{ids['Tuntematon sotilas']}").status_code == 200


def test_the_patron_pages_render_in_every_language(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards, ids = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    client.post("/catalogue/lists/add", data={"record_id": ids["Kesäpeli"]})
    client.post("/catalogue/saved-searches/new", data={"name": "Pelit", "frequency": "daily", "q": "peli"})
    list_id = _lists(sm, patron_id)["My favourites"]
    for lang in ("fi", "sv", "cs", "en"):
        for path in ("/catalogue?q=jatkosota", f"/catalogue/records/{ids['Kesäpeli']}", "/catalogue/lists",
                     f"/catalogue/lists/{list_id}", "/catalogue/saved-searches", "/catalogue/saved-searches/new?q=x"):
            response = client.get(path, headers={"Accept-Language": lang})
            assert response.status_code == 200, (lang, path)
            assert f'<html lang="{lang}"' in response.get_data(as_text=True) or lang != "en"
