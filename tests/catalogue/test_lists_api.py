"""The patron's own catalogue over JSON (/api/v1/catalogue/me): favourites lists and saved searches with a
device token or the browser session; every answer is checked against its declaration (API_CHECK_RESPONSES)."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import Patron
from app.catalogue.lists_models import SavedSearch
from app.catalogue.models import Record
from tests.catalogue.helpers import book, run_import, write
from tests.circulation import helpers
from tests.factories import login_patron

ME = "/api/v1/catalogue/me"


def setup(app, sm, now, tmp_path):
    assert run_import(app, str(write(tmp_path / "r.mrc", book("1", "Tuntematon sotilas", subjects=("jatkosota",)),
                                     book("2", "Kalaopas", subjects=("kalastus",))))).exit_code == 0
    with sm.begin() as s:
        patron_id = helpers.borrower(s, now, "lumme")
        other_id = helpers.borrower(s, now, "lumme")
        raw, _tok = accounts.issue_token(s, now=now, days=30, patron=s.get(Patron, patron_id))
        other_raw, _tok = accounts.issue_token(s, now=now, days=30, patron=s.get(Patron, other_id))
        card = s.get(Patron, patron_id).card_number
        ids = {r.title: r.id for r in s.scalars(select(Record))}
    return ({"Authorization": f"Bearer {raw}"}, {"Authorization": f"Bearer {other_raw}"}, card, ids)


def test_lists_and_saved_searches_with_a_token(app, client, sm, libraries, now, tmp_path):
    auth, other, _card, ids = setup(app, sm, now, tmp_path)
    assert client.get(f"{ME}/lists").status_code == 401
    assert client.get(f"{ME}/lists", headers=auth).json == {"lists": []}
    added = client.post(f"{ME}/lists/entries", headers=auth, json={"record_id": ids["Kalaopas"]})
    assert added.status_code == 201 and added.json["added"] and added.json["list_name"] == "My favourites"
    again = client.post(f"{ME}/lists/entries", headers=auth, json={"record_id": ids["Kalaopas"]})
    assert again.status_code == 200 and again.json["added"] is False
    [lst] = client.get(f"{ME}/lists", headers=auth).json["lists"]
    assert lst["public"] is False and lst["entries"][0]["title"] == "Kalaopas"
    assert client.post(f"{ME}/lists/entries", headers=auth, json={"record_id": 999999}).status_code == 404
    assert client.post(f"{ME}/lists/entries", headers=other,
                       json={"record_id": ids["Kalaopas"], "list_id": lst["id"]}).status_code == 404
    assert client.post(f"{ME}/lists/entries", headers=auth, json={"record_id": "1"}).status_code == 422

    saved = client.post(f"{ME}/saved-searches", headers=auth, json={"q": "jatkosota", "frequency": "weekly",
                                                                   "material_type": "book", "age_rating": 12})
    assert saved.status_code == 201, saved.json
    assert saved.json["name"] == "jatkosota" and saved.json["query"] == {"q": "jatkosota", "material_type": "book",
                                                                         "age_rating": "12"}
    assert client.post(f"{ME}/saved-searches", headers=auth, json={"q": "!!!"}).status_code == 422
    assert client.post(f"{ME}/saved-searches", headers=auth, json={"q": "x", "frequency": "hourly"}).status_code == 422
    assert [x["id"] for x in client.get(f"{ME}/saved-searches", headers=auth).json["saved_searches"]] == \
        [saved.json["id"]]
    assert client.get(f"{ME}/saved-searches", headers=other).json == {"saved_searches": []}
    assert client.delete(f"{ME}/saved-searches/{saved.json['id']}", headers=other).status_code == 404
    assert client.delete(f"{ME}/saved-searches/{saved.json['id']}", headers=auth).status_code == 204
    with sm() as s:
        assert s.scalar(select(SavedSearch)) is None


def test_the_browser_session_needs_the_csrf_token_for_changes(app, client, sm, libraries, now, tmp_path):
    _auth, _other, card, ids = setup(app, sm, now, tmp_path)
    login_patron(client, card)
    assert client.get(f"{ME}/saved-searches").status_code == 200
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"{ME}/saved-searches", json={"q": "sota"}).status_code == 403
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/catalogue/lists").text).group(1)
    assert client.post(f"{ME}/saved-searches", json={"q": "sota"}, headers={"X-CSRFToken": token}).status_code == 201
