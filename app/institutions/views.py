"""Public pages: the application form, and the applicant's private page to follow it and answer questions."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app import clock, db, gate, storage
from app.errors import DomainError
from app.institutions import service, texts, web
from app.institutions.documents import InvalidDocument, StoredUploads
from app.institutions.forms import AnswerForm, ApplicationForm
from app.institutions.validation import InvalidApplication

bp = Blueprint("institutions", __name__)
gate.declare(bp, "institution_applications")
SENT = "institution_application_sent"


@bp.route("/institutions/apply", methods=["GET", "POST"])
def apply() -> Any:
    form = ApplicationForm()
    if form.validate_on_submit():
        try:
            result = web.submit(form.application_data(), request.files.get(form.document.name))
        except InvalidApplication as invalid:
            form.show_errors(invalid.errors)
        else:
            session[SENT] = {"reference": result.application.reference, "email": result.application.email,
                             "repeat": not result.created}
            return redirect(url_for("institutions.sent"))
    return render_template("institutions/apply.html", form=form, type_labels=texts.TYPE_LABELS,
                           target=web.settings().target_business_days)


@bp.get("/institutions/apply/sent")
def sent() -> Any:
    info = session.get(SENT)
    if not info:
        return redirect(url_for("institutions.apply"))
    return render_template("institutions/sent.html", info=info, target=web.settings().target_business_days)


@bp.route("/institutions/application/<token>", methods=["GET", "POST"])
@gate.component("institution_applications", reads_open=True)
def follow(token: str) -> Any:
    application = service.find_by_link(db.session(), token)
    if application is None:
        abort(404)
    form = AnswerForm()
    if application.is_open and form.validate_on_submit():
        if _answer(application, form):
            flash(_("Thank you. Your answer was sent to the reviewers."), "success")
            return redirect(url_for("institutions.follow", token=token))
    return render_template("institutions/follow.html", application=application, form=form, texts=texts,
                           target=web.settings().target_business_days)


def _answer(application: Any, form: AnswerForm) -> bool:
    try:
        document = web.read_upload(request.files.get(form.document.name))
    except InvalidDocument as bad:
        form.document.errors = [texts.field_error(bad.code)]
        return False
    uploads = StoredUploads(storage.store())
    try:
        with uploads.kept_only_on_success():
            service.answer_information_request(db.session(), application, text=form.message.data,
                                               document=document, uploads=uploads, now=clock.now())
            db.session().commit()
    except DomainError as err:
        form.message.errors = [web.conflict_text(err)]
        return False
    return True
