"""Favourites lists' pages under /catalogue/lists (patron login), and a public list's share link
/catalogue/lists/shared/<token> (no login). Routes join the catalogue blueprint."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from app import clock, db
from app.accounts.auth import patron_required
from app.accounts.models import Patron
from app.catalogue import lists
from app.catalogue.lists_models import FavouriteList
from app.catalogue.models import Record
from app.catalogue.views import LANGUAGE_LABELS, LANGUAGE_TAGS, MATERIAL_LABELS, bp
from app.errors import DomainError

SORT_LABELS: dict[str, Any] = {"added": _l("Date added (newest first)"), "title": _l("Title"),
                               "author": _l("Author"), "material_type": _l("Material type")}
MESSAGES: dict[str, Any] = {
    "catalogue-list-not-found": _l("That list was not found."),
    "catalogue-entry-not-found": _l("That title is no longer on the list."),
    "catalogue-record-not-found": _l("That record was not found in the catalogue."),
    "catalogue-list-name-missing": _l("Give the list a name."),
    "catalogue-list-name-taken": _l("You already have a list with that name. Choose another name."),
    "catalogue-too-many-lists": _l("You have as many lists as one can have (%(limit)s). Delete a list first."),
    "catalogue-list-full": _l("The list is full (%(limit)s titles). Remove some titles or use another list."),
    "catalogue-list-private": _l("Only a public list has a share link."),
    "catalogue-same-list": _l("Choose a different list to move or copy the titles to."),
    "catalogue-too-many-keywords": _l("Give at most %(limit)s keywords."),
    "catalogue-email-invalid": _l("Give a valid email address, such as name@example.fi."),
    "catalogue-list-empty": _l("The list is empty: there is nothing to send."),
    "catalogue-list-mail-limit": _l("You have sent %(limit)s lists today. Try again tomorrow."),
}


def message(err: DomainError) -> str:
    text = MESSAGES.get(err.code)
    return str(text) % err.params if text is not None and err.params else str(text or err.code)


class AddToListForm(FlaskForm):
    record_id = HiddenField()
    list_id = SelectField(_l("List"), choices=[], validate_choice=False)
    next = HiddenField()


class ListForm(FlaskForm):
    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description (optional)"))
    public = BooleanField(_l("Public: anyone with the share link can read the list"),
                          description=_l("The share link shows the titles and your notes, never your name."))


class EntryForm(FlaskForm):
    note = TextAreaField(_l("Note"))
    keywords = StringField(_l("Keywords, separated by commas"))


class EntriesForm(FlaskForm):
    action = HiddenField()
    target = SelectField(_l("To the list"), choices=[], validate_choice=False)


class EmailForm(FlaskForm):
    email = StringField(_l("Email address"))


class ConfirmForm(FlaskForm):
    pass


def _int(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else None


def _patron_id() -> int:
    return int(current_user.id)


def _safe_next(value: Any, default: str) -> str:
    text = str(value or "")
    return text if text.startswith("/catalogue") and "//" not in text and "\\" not in text else default


def _record_link(record: Any) -> str:
    return url_for("catalogue.record", record_id=record.id, _external=True)


def _share_link(lst: FavouriteList) -> str:
    return url_for("catalogue.shared_list", token=lst.share_token, _external=True) if lst.share_token else ""


@bp.get("/lists")
@patron_required
def lists_index() -> Any:
    return _index(ListForm())


def _index(form: ListForm, status: int = 200) -> Any:
    mine = lists.lists_of(db.session(), _patron_id())
    return render_template("catalogue/lists.html", lists=mine, form=form), status


@bp.post("/lists")
@patron_required
def create_list() -> Any:
    form = ListForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return _index(form, 400)
    s = db.session()
    try:
        lst = lists.create_list(s, patron_id=_patron_id(), name=form.name.data or "",
                                description=form.description.data or "", public=bool(form.public.data),
                                now=clock.now())
    except DomainError as err:
        s.rollback()
        flash(message(err), "error")
        return _index(form, err.status)
    s.commit()
    flash(_("The list “%(name)s” was created.", name=lst.name), "success")
    return redirect(url_for("catalogue.show_list", list_id=lst.id), 303)


@bp.post("/lists/add")
@patron_required
def add_to_list() -> Any:
    form = AddToListForm()
    back = _safe_next(form.next.data, url_for("catalogue.search"))
    record_id, list_id = _int(form.record_id.data), _int(form.list_id.data)
    if not form.validate_on_submit() or record_id is None:
        flash(_("The title could not be saved. Please try again."), "error")
        return redirect(back, 303)
    s = db.session()
    try:
        lst, added = lists.add_record(s, patron_id=_patron_id(), record_id=record_id, list_id=list_id,
                                      default_name=_("My favourites"), now=clock.now())
    except DomainError as err:
        s.rollback()
        flash(message(err), "error")
        return redirect(back, 303)
    s.commit()
    if added:
        flash(_("Saved to your list “%(name)s”.", name=lst.name), "success")
    else:
        flash(_("This title is on your list “%(name)s” already.", name=lst.name), "info")
    return redirect(back, 303)


def _show(lst: FavouriteList, *, edit_form: ListForm | None = None, email_form: EmailForm | None = None,
          status: int = 200) -> Any:
    s = db.session()
    sort = request.args.get("sort", "added")
    sort = sort if sort in lists.SORTS else "added"
    rows = lists.entries(s, lst, sort)
    others = [(other, n) for other, n in lists.lists_of(s, _patron_id()) if other.id != lst.id]
    if edit_form is None:
        edit_form = ListForm(formdata=None, obj=None, name=lst.name, description=lst.description,
                             public=lst.is_public)
    if email_form is None:
        patron = s.get(Patron, _patron_id())
        email_form = EmailForm(formdata=None, email=patron.email if patron else "")
    entries_form = EntriesForm()
    entries_form.target.choices = [(str(o.id), o.name) for o, _n in others]
    return render_template("catalogue/list.html", lst=lst, rows=rows, sort=sort, sort_labels=SORT_LABELS,
                           others=others, edit_form=edit_form, email_form=email_form, entries_form=entries_form,
                           confirm_form=ConfirmForm(), share_link=_share_link(lst), labels=MATERIAL_LABELS,
                           language_labels=LANGUAGE_LABELS, language_tags=LANGUAGE_TAGS), status


@bp.get("/lists/<int:list_id>")
@patron_required
def show_list(list_id: int) -> Any:
    return _show(lists.get_list(db.session(), _patron_id(), list_id))


@bp.post("/lists/<int:list_id>/edit")
@patron_required
def edit_list(list_id: int) -> Any:
    s = db.session()
    lst = lists.get_list(s, _patron_id(), list_id)
    form = ListForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return _show(lst, edit_form=form, status=400)
    was_public = lst.is_public
    try:
        lists.update_list(s, patron_id=_patron_id(), list_id=list_id, name=form.name.data or "",
                          description=form.description.data or "", public=bool(form.public.data), now=clock.now())
    except DomainError as err:
        s.rollback()
        flash(message(err), "error")
        return _show(lists.get_list(s, _patron_id(), list_id), edit_form=form, status=err.status)
    s.commit()
    if lst.is_public and not was_public:
        flash(_("The list is public now: anyone with its share link can read it."), "success")
    elif was_public and not lst.is_public:
        flash(_("The list is private now: its share link no longer works."), "success")
    else:
        flash(_("The list was saved."), "success")
    return redirect(url_for("catalogue.show_list", list_id=list_id), 303)


@bp.post("/lists/<int:list_id>/share-link")
@patron_required
def new_share_link(list_id: int) -> Any:
    s = db.session()
    if ConfirmForm().validate_on_submit():
        try:
            lists.new_share_link(s, patron_id=_patron_id(), list_id=list_id, now=clock.now())
        except DomainError as err:
            s.rollback()
            if err.status == 404:
                raise
            flash(message(err), "error")
            return redirect(url_for("catalogue.show_list", list_id=list_id), 303)
        s.commit()
        flash(_("The list has a new share link. The old link no longer works."), "success")
    return redirect(url_for("catalogue.show_list", list_id=list_id), 303)


@bp.route("/lists/<int:list_id>/delete", methods=["GET", "POST"])
@patron_required
def delete_list(list_id: int) -> Any:
    s = db.session()
    lst = lists.get_list(s, _patron_id(), list_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = lists.delete_list(s, patron_id=_patron_id(), list_id=list_id)
        s.commit()
        flash(_("The list “%(name)s” was deleted.", name=name), "success")
        return redirect(url_for("catalogue.lists_index"), 303)
    return render_template("catalogue/list_delete.html", lst=lst, form=form,
                           count=len(lists.entries(s, lst))), 400 if request.method == "POST" else 200


@bp.post("/lists/<int:list_id>/entries")
@patron_required
def change_entries(list_id: int) -> Any:
    s = db.session()
    lst = lists.get_list(s, _patron_id(), list_id)
    form = EntriesForm()
    back = url_for("catalogue.show_list", list_id=list_id, sort=request.args.get("sort") or None)
    ids = [i for i in (_int(v) for v in request.form.getlist("entry")[:lists.MAX_ENTRIES]) if i is not None]
    action = request.form.get("action", "")
    if not form.validate_on_submit() or action not in ("remove", "move", "copy"):
        flash(_("The form had expired. Please send it again."), "error")
        return _show(lst, status=400)
    if not ids:
        flash(_("Choose at least one title first."), "error")
        return _show(lst, status=422)
    try:
        if action == "remove":
            n = lists.remove_entries(s, patron_id=_patron_id(), list_id=list_id, entry_ids=ids)
            text = ngettext("%(num)d title was removed from the list.", "%(num)d titles were removed from the list.", n)
        else:
            target_id = _int(form.target.data)
            if target_id is None:
                raise DomainError("catalogue-list-not-found", 404)
            target = lists.get_list(s, _patron_id(), target_id)
            n = lists.transfer(s, patron_id=_patron_id(), list_id=list_id, entry_ids=ids, target_id=target_id,
                               copy=action == "copy", now=clock.now())
            if action == "copy":
                text = ngettext("%(num)d title was copied to “%(name)s”.", "%(num)d titles were copied to “%(name)s”.",
                                 n, name=target.name)
            else:
                text = ngettext("%(num)d title was moved to “%(name)s”.", "%(num)d titles were moved to “%(name)s”.",
                                 n, name=target.name)
    except DomainError as err:
        s.rollback()
        flash(message(err), "error")
        return _show(lists.get_list(s, _patron_id(), list_id), status=err.status)
    s.commit()
    flash(text, "success")
    return redirect(back, 303)


@bp.route("/lists/<int:list_id>/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@patron_required
def edit_entry(list_id: int, entry_id: int) -> Any:
    s = db.session()
    entry = lists.get_entry(s, _patron_id(), entry_id)
    lst = lists.get_list(s, _patron_id(), list_id)
    if entry.list_id != lst.id:
        raise DomainError("catalogue-entry-not-found", 404)
    record = s.get(Record, entry.record_id)
    form = EntryForm() if request.method == "POST" else \
        EntryForm(formdata=None, note=entry.note, keywords=", ".join(entry.keywords or []))
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                lists.update_entry(s, patron_id=_patron_id(), entry_id=entry_id, note=form.note.data or "",
                                   keywords=form.keywords.data or "", now=clock.now())
            except DomainError as err:
                s.rollback()
                flash(message(err), "error")
                status = err.status
            else:
                s.commit()
                flash(_("The note and keywords were saved."), "success")
                return redirect(url_for("catalogue.show_list", list_id=list_id) + f"#entry-{entry_id}", 303)
        else:
            flash(_("The form had expired. Please send it again."), "error")
            status = 400
    return render_template("catalogue/list_entry.html", lst=lst, entry=entry, record=record, form=form,
                           max_note=lists.MAX_NOTE), status


@bp.get("/lists/<int:list_id>/export.ris")
@patron_required
def export_list(list_id: int) -> Any:
    s = db.session()
    lst = lists.get_list(s, _patron_id(), list_id)
    body = lists.ris(lists.entries(s, lst, "title"), _record_link)
    return Response(body, mimetype="application/x-research-info-systems",
                    headers={"Content-Disposition": f'attachment; filename="favourites-{lst.id}.ris"'})


@bp.post("/lists/<int:list_id>/email")
@patron_required
def email_list(list_id: int) -> Any:
    s = db.session()
    lst = lists.get_list(s, _patron_id(), list_id)
    form = EmailForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return _show(lst, email_form=form, status=400)
    try:
        queued = lists.email_list(s, patron_id=_patron_id(), list_id=list_id, recipient=form.email.data or "",
                                  language=str(get_locale() or "fi"), now=clock.now(), link=_record_link,
                                  list_link=_share_link(lst))
    except DomainError as err:
        s.rollback()
        flash(message(err), "error")
        return _show(lists.get_list(s, _patron_id(), list_id), email_form=form, status=err.status)
    s.commit()
    if queued:
        flash(_("The list is on its way to %(email)s.", email=lists.valid_email(form.email.data)), "success")
    else:
        flash(_("The list was sent to that address a moment ago already."), "info")
    return redirect(url_for("catalogue.show_list", list_id=list_id), 303)


@bp.get("/lists/shared/<token>")
@db.read_only
def shared_list(token: str) -> Any:
    s = db.session()
    lst = lists.shared_list(s, token)
    sort = request.args.get("sort", "title")
    sort = sort if sort in lists.SORTS else "title"
    return render_template("catalogue/list_shared.html", lst=lst, rows=lists.entries(s, lst, sort), sort=sort,
                           sort_labels=SORT_LABELS, labels=MATERIAL_LABELS, language_tags=LANGUAGE_TAGS)

