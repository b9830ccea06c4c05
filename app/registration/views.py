"""Librarians' pages: the registration form, its result, search and the patron's record; the patron's data."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template
from flask_login import current_user

from app import clock, db, gate
from app.accounts.auth import patron_required, staff_required
from app.registration import forms, service
from app.registration.messages import ELIGIBILITY_LABELS, FORMAT_LABELS, LANGUAGE_LABELS
from app.registration.validation import RegistrationInvalid

bp = Blueprint("registration", __name__)
gate.declare(bp, "registration")


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"language_labels": LANGUAGE_LABELS, "eligibility_labels": ELIGIBILITY_LABELS,
            "format_labels": FORMAT_LABELS}


def settings() -> service.RegistrationSettings:
    c = current_app.config
    return service.RegistrationSettings(identity_key=c["IDENTITY_HASH_KEY"], base_url=c["BASE_URL"],
                                        link_hours=int(c.get("REGISTRATION_LINK_HOURS", 14 * 24)))


@bp.route("/staff/registrations/new", methods=["GET", "POST"])
@staff_required("librarian")
def new_registration() -> Any:
    form = forms.RegistrationForm()
    if current_user.library is None:
        return render_template("registration/no_library.html"), 403
    if not form.validate_on_submit():  # GET, or a form without its CSRF token
        form.national_id.data = ""
        return render_template("registration/form.html", form=form)
    try:
        outcome = service.register_patron(db.session(), form.submitted_values(), staff=current_user,
                                          now=clock.now(), settings=settings())
    except RegistrationInvalid as err:
        form.show_errors(err.errors)
        return render_template("registration/form.html", form=form), 422
    db.session().commit()
    return render_template("registration/result.html", outcome=outcome, facts=outcome.registered)


def _search_page(found: Any = None, searched: str = "", status: int = 200, **forms_: Any) -> Any:
    code_form = forms_.get("code_form") or forms.IdentityCodeSearchForm(prefix="code", formdata=None)
    card_form = forms_.get("card_form") or forms.CardSearchForm(prefix="card", formdata=None)
    code_form.national_id.data = ""
    return render_template("registration/search.html", code_form=code_form, card_form=card_form,
                           facts=found, searched=searched), status


@bp.get("/staff/registrations/search")
@staff_required("librarian")
def search() -> Any:
    return _search_page()


@bp.post("/staff/registrations/search/identity-code")
@staff_required("librarian")
def search_by_identity_code() -> Any:
    form = forms.IdentityCodeSearchForm(prefix="code")
    if not form.validate_on_submit():
        return _search_page(code_form=form, status=400)
    try:
        record = service.find_by_identity_code(db.session(), form.national_id.data, staff=current_user,
                                               now=clock.now(), settings=settings())
    except RegistrationInvalid as err:
        form.show_errors(err.errors)
        return _search_page(code_form=form, status=422)
    db.session().commit()
    return _search_page(found=record, searched="identity_code")


@bp.post("/staff/registrations/search/card")
@staff_required("librarian")
def search_by_card() -> Any:
    form = forms.CardSearchForm(prefix="card")
    if not form.validate_on_submit():
        return _search_page(card_form=form, status=400)
    record = service.find_by_card_number(db.session(), form.card_number.data or "", staff=current_user,
                                         now=clock.now())
    db.session().commit()
    return _search_page(found=record, searched="card_number", card_form=form)


@bp.get("/staff/registrations/<int:patron_id>")
@staff_required("librarian")
@gate.component("registration", reads_open=True)
def record(patron_id: int) -> Any:
    found = service.patron_record(db.session(), patron_id, staff=current_user, now=clock.now())
    if found is None:
        abort(404)
    db.session().commit()
    return render_template("registration/record.html", record=found, facts=found.facts,
                           today=service.local_date(clock.now()))


@bp.get("/account/my-data")
@patron_required
@gate.component("web_library", reads_open=True)
def my_data() -> Any:
    return render_template("registration/my_data.html")


@bp.get("/account/my-data.json")
@patron_required
@gate.component("web_library", reads_open=True)
def my_data_download() -> Any:
    data = service.patron_data(db.session(), current_user, now=clock.now())
    db.session().commit()
    filename = f"kuulo-my-data-{current_user.card_number}.json"
    return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})
