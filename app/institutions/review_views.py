"""Reviewer pages: the queue, one application with its checks and actions, documents, and the figures.

These pages stay open during maintenance breaks (no gate component): reviewers work through breaks.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import audit, clock, db, storage
from app.accounts.auth import staff_required
from app.errors import DomainError
from app.institutions import replies, review_queue, service, texts, web
from app.institutions.forms import InformationRequestForm, RejectForm, ReplyForm
from app.institutions.models import INSTITUTION_TYPES, STATES

bp = Blueprint("institutions_review", __name__, url_prefix="/staff/institutions")
REVIEWER = "reviewer"
PERIODS = (7, 30, 90, 365)
PAGE_SIZE = 100


def _filters() -> review_queue.QueueFilters:
    args = request.args
    state = args.get("state", "open")
    return review_queue.QueueFilters(
        state=state if state in (*STATES, "open", "all") else "open",
        type=args.get("type", "") if args.get("type", "") in INSTITUTION_TYPES else "",
        age=args.get("age", "") if args.get("age", "") in review_queue.AGE_FILTERS else "",
        q=args.get("q", "")[:100], mine_of=current_user.id if args.get("mine") == "1" else None)


@bp.get("/applications")
@staff_required(REVIEWER)
def queue() -> Any:
    filters, target = _filters(), web.settings().target_business_days
    rows = review_queue.queue(db.session(), filters, now=clock.now(), target=target)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    shown = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]  # a national queue has thousands: render one page
    return render_template("institutions/queue.html", rows=shown, total=len(rows), page=page, pages=pages,
                           args={k: v for k, v in request.args.items() if k != "page"}, filters=filters,
                           target=target, texts=texts, states=STATES, types=INSTITUTION_TYPES, now=clock.now())


@bp.get("/applications/<int:application_id>")
@staff_required(REVIEWER)
def detail(application_id: int) -> Any:
    return _detail_page(application_id)


def _with_replies(form: Any, kind: str, application: Any) -> Any:
    """Offer the active canned replies of ``kind``; each option carries its text in the applicant's language."""
    canned = replies.replies(db.session(), kind)
    form.reply.choices = [SelectChoice("", _("None"))] + [SelectChoice(str(r.id), r.title) for r in canned]
    form.reply.texts = {str(r.id): r.text_in(application.language) for r in canned}
    return form


def _canned(form: Any, text_field: Any, kind: str, application_id: int) -> None:
    """An empty text box with a canned reply picked: send the reply (in the applicant's language)."""
    if not (text_field.data or "").strip() and form.reply.data:
        application = service.get_application(db.session(), application_id)
        text_field.data = replies.text_for(db.session(), form.reply.data, kind, application)


def _detail_page(application_id: int, info_form: Any = None, reject_form: Any = None, status: int = 200) -> Any:
    session, now, target = db.session(), clock.now(), web.settings().target_business_days
    application = service.get_application(session, application_id)
    info_form = _with_replies(info_form or InformationRequestForm(), "question", application)
    reject_form = _with_replies(reject_form or RejectForm(), "rejection", application)
    decision = service.check_responsible_person(session, application, now) if application.is_open else None
    age = review_queue.age_in_business_days(application, now)
    return render_template(
        "institutions/detail.html", application=application, age=age, target=target, now=now, texts=texts,
        past_target=application.is_open and age > target, decision=decision,
        duplicates=review_queue.duplicates_of(session, application),
        events=audit.events(session, record_type=service.RECORD, record_id=str(application.id)),
        info_form=info_form, reject_form=reject_form, mine_waiting=application.claimed_by_id == current_user.id
        and not application.claim_is_live(now)), status


def _act(application_id: int, action: Callable[[], Any], done: str) -> Any:
    """Run one queue action, commit, and come back to the application with what happened in words."""
    try:
        action()
    except DomainError as err:
        db.session().rollback()
        flash(web.conflict_text(err), "error")
    else:
        db.session().commit()
        flash(done, "success")
    return redirect(url_for("institutions_review.detail", application_id=application_id))


@bp.post("/applications/<int:application_id>/claim")
@staff_required(REVIEWER)
def claim(application_id: int) -> Any:
    return _act(application_id, lambda: service.claim(db.session(), application_id, reviewer=current_user,
                                                      now=clock.now(), settings=web.settings()),
                _("The application is yours to review."))


@bp.post("/applications/<int:application_id>/release")
@staff_required(REVIEWER)
def release(application_id: int) -> Any:
    return _act(application_id, lambda: service.release(db.session(), application_id, reviewer=current_user,
                                                        now=clock.now()),
                _("The application is back in the queue."))


@bp.post("/applications/<int:application_id>/request-information")
@staff_required(REVIEWER)
def request_information(application_id: int) -> Any:
    form = InformationRequestForm()
    _canned(form, form.message, "question", application_id)
    if not form.validate():
        return _detail_page(application_id, info_form=form, status=422)
    return _act(application_id, lambda: service.request_information(
        db.session(), application_id, reviewer=current_user, text=form.message.data, now=clock.now(),
        settings=web.settings()), _("The question was sent to the applicant. The clock is paused."))


@bp.post("/applications/<int:application_id>/approve")
@staff_required(REVIEWER)
def approve(application_id: int) -> Any:
    try:
        result = service.approve(db.session(), application_id, reviewer=current_user, now=clock.now(),
                                 settings=web.settings())
    except DomainError as err:
        flash(web.conflict_text(err), "error")
        return redirect(url_for("institutions_review.detail", application_id=application_id))
    db.session().commit()
    messages = {"approved": (_("Approved. The institution's account was created and its credentials were sent."),
                             "success"),
                "already_approved": (_("This application was already approved. Nothing was sent again."), "info"),
                "refused": (_("Approval refused: %(reason)s", reason=texts.decision_reason(result.reason)), "error")}
    flash(*messages[result.outcome])
    return redirect(url_for("institutions_review.detail", application_id=application_id))


@bp.post("/applications/<int:application_id>/reject")
@staff_required(REVIEWER)
def reject(application_id: int) -> Any:
    form = RejectForm()
    _canned(form, form.reason, "rejection", application_id)
    if not form.validate():
        return _detail_page(application_id, reject_form=form, status=422)
    return _act(application_id, lambda: service.reject(
        db.session(), application_id, reviewer=current_user, reason=form.reason.data, now=clock.now(),
        settings=web.settings()), _("Rejected. The reason was sent to the applicant."))


@bp.get("/applications/<int:application_id>/documents/<int:document_id>")
@staff_required(REVIEWER)
def document(application_id: int, document_id: int) -> Any:
    doc = service.document_for_reviewer(db.session(), application_id, document_id, reviewer=current_user,
                                        now=clock.now())
    db.session().commit()
    resp = send_file(io.BytesIO(storage.store().get_bytes(doc.storage_key)), mimetype=doc.content_type,
                     as_attachment=True, download_name=doc.filename)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/figures")
@staff_required(REVIEWER)
def figures() -> Any:
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else 30
    figures = review_queue.throughput(db.session(), now=clock.now(), days=days,
                                      target=web.settings().target_business_days)
    return render_template("institutions/figures.html", figures=figures, periods=PERIODS,
                           target=web.settings().target_business_days)


# ---- canned replies (admins) -----------------------------------------------------------------------


@bp.route("/replies", methods=["GET", "POST"])
@staff_required("admin")
def replies_page() -> Any:
    return _reply_form(None)


@bp.route("/replies/<int:reply_id>", methods=["GET", "POST"])
@staff_required("admin")
def reply_page(reply_id: int) -> Any:
    return _reply_form(reply_id)


def _reply_form(reply_id: int | None) -> Any:
    session = db.session()
    existing = replies.get(session, reply_id) if reply_id is not None else None
    data = None
    if existing is not None and request.method == "GET":
        data = {"kind": existing.kind, "title": existing.title, "active": existing.active,
                **{f"text_{lang}": getattr(existing, f"text_{lang}") for lang in replies.LANGUAGES}}
    form = ReplyForm(data=data)
    if form.validate_on_submit():
        replies.save(session, replies.ReplyData(
            kind=form.kind.data, title=form.title.data,
            texts={lang: form[f"text_{lang}"].data or "" for lang in replies.LANGUAGES}, active=form.active.data),
            reply_id=reply_id, actor=current_user, now=clock.now())
        session.commit()
        flash(_("The canned reply was saved."), "success")
        return redirect(url_for("institutions_review.replies_page"))
    return render_template("institutions/replies.html", form=form, reply=existing,
                           replies=replies.replies(session, active_only=False), texts=texts), \
        422 if request.method == "POST" else 200
