"""The patron's own catalogue over JSON (a device token, or the browser session with X-CSRFToken):
favourites lists (read, add a record) and saved searches (read, save, delete). The pages under
/catalogue/lists and /catalogue/saved-searches do the rest."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, url_for

from app import clock, db, gate
from app.accounts.auth import api_patron_or_session
from app.catalogue import alerts, lists
from app.catalogue import lists_schemas as schemas
from app.platform.contract import Reply, operation

bp = Blueprint("catalogue_patron_api", __name__, url_prefix="/api/v1/catalogue/me")
gate.declare(bp, "web_library")
TAGS = ["catalogue"]


def _share_url(lst: Any) -> str | None:
    return url_for("catalogue.shared_list", token=lst.share_token, _external=True) if lst.share_token else None


@bp.get("/lists")
@api_patron_or_session
@operation("My favourites lists with their titles", tags=TAGS,
           responses={200: (schemas.FavouriteLists, "Every list of mine, titles newest first")})
def my_lists() -> Any:
    s = db.session()
    out = []
    for lst, _n in lists.lists_of(s, g.api_patron.id):
        entries = [schemas.FavouriteEntry(id=e.id, record_id=r.id, title=r.title, authors=r.author_names(),
                                          year=r.year, material_type=r.material_type, note=e.note,
                                          keywords=list(e.keywords or []), added_at=e.added_at)
                   for e, r in lists.entries(s, lst, "added")]
        out.append(schemas.FavouriteList(id=lst.id, name=lst.name, description=lst.description, public=lst.is_public,
                                         share_url=_share_url(lst), entries=entries))
    return schemas.FavouriteLists(lists=out)


@bp.post("/lists/entries")
@api_patron_or_session
@operation("Save a record to one of my favourites lists", tags=TAGS, body=schemas.AddEntry, responses={
    201: (schemas.EntryAdded, "Saved"), 200: (schemas.EntryAdded, "The record was on the list already"),
    404: "No such record, or no such list of mine", 409: "The list is full, or I have as many lists as one can"})
def add_entry(body: schemas.AddEntry) -> Any:
    from flask_babel import gettext as _

    s = db.session()
    lst, added = lists.add_record(s, patron_id=g.api_patron.id, record_id=body.record_id, list_id=body.list_id,
                                  default_name=_("My favourites"), now=clock.now())
    s.commit()
    answer = schemas.EntryAdded(list_id=lst.id, list_name=lst.name, added=added)
    return (answer, 201) if added else answer


def _saved(saved: Any) -> schemas.SavedSearch:
    return schemas.SavedSearch(id=saved.id, name=saved.name, query=dict(saved.query),
                               frequency=saved.frequency, created_at=saved.created_at,
                               last_alert_at=saved.last_alert_at)


@bp.get("/saved-searches")
@api_patron_or_session
@operation("My saved searches", tags=TAGS, responses={200: (schemas.SavedSearches, "Newest first")})
def my_saved_searches() -> Any:
    return schemas.SavedSearches(saved_searches=[_saved(x) for x in alerts.saved_searches(db.session(),
                                                                                          g.api_patron.id)])


@bp.post("/saved-searches")
@api_patron_or_session
@operation("Save a search, with daily or weekly email alerts of new records (or none)", tags=TAGS,
           body=schemas.SaveSearch, responses={201: (schemas.SavedSearch, "Saved"),
                                               409: "I have as many saved searches as one can"})
def save_search(body: schemas.SaveSearch) -> Any:
    s = db.session()
    query = body.model_dump(exclude={"name", "frequency"})
    query["age_rating"] = "" if body.age_rating is None else str(body.age_rating)
    saved = alerts.save_search(s, patron_id=g.api_patron.id, name=body.name, query=query,
                               frequency=body.frequency, now=clock.now())
    s.commit()
    return _saved(saved), 201


@bp.delete("/saved-searches/<int:saved_id>")
@api_patron_or_session
@operation("Delete a saved search of mine", tags=TAGS,
           responses={204: Reply("Deleted"), 404: "No such saved search of mine"})
def delete_saved_search(saved_id: int) -> Any:
    s = db.session()
    alerts.delete_saved(s, patron_id=g.api_patron.id, saved_id=saved_id)
    s.commit()
    return Response(status=204)
