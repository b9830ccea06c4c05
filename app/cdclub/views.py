"""Producer pages: the dashboard, clubs, each period's titles, production runs, pick lists and labels."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app import clock, db, gate
from app.accounts.auth import staff_required
from app.cdclub import forms, labels, messages, production, service, settings
from app.errors import DomainError

bp = Blueprint("cdclub", __name__, url_prefix="/staff/clubs")
gate.declare(bp, "cd_clubs")
STAFF = ("producer", "librarian")


@bp.context_processor
def _texts() -> dict[str, Any]:
    roles = getattr(current_user, "roles", set())
    return {"club_texts": messages, "address_lines": labels.address_lines,
            "can_produce": bool(roles & {"producer", "admin"})}


def refused(err: DomainError) -> None:
    flash(messages.text(err.code), "error")


def _today() -> Any:
    return settings.current().local_date(clock.now())


@bp.get("")
@staff_required(*STAFF)
def dashboard() -> Any:
    overviews = production.dashboard(db.session(), settings.current(), clock.now())
    return render_template("cdclub/dashboard.html", overviews=overviews, today=_today())


@bp.route("/new", methods=["GET", "POST"])
@staff_required("producer")
def new_club() -> Any:
    form = forms.ClubForm(data=None if request.method == "POST" else {"disc_cap": settings.current().default_disc_cap})
    if form.validate_on_submit():
        try:
            club = service.create_club(db.session(), form.data_for_service(), actor=current_user, now=clock.now())
        except service.ClubInputError as err:
            _attach(form, err)
        else:
            db.session().commit()
            flash(_("The club was created."), "success")
            return redirect(url_for("cdclub.club_page", club_id=club.id))
    return render_template("cdclub/club_form.html", form=form, club=None)


@bp.route("/<int:club_id>/edit", methods=["GET", "POST"])
@staff_required("producer")
def edit_club(club_id: int) -> Any:
    club = service.get_club(db.session(), club_id)
    form = forms.ClubForm(data=None if request.method == "POST" else _club_form_data(club))
    if form.validate_on_submit():
        try:
            service.update_club(db.session(), club, form.data_for_service(), actor=current_user, now=clock.now())
        except service.ClubInputError as err:
            _attach(form, err)
        else:
            db.session().commit()
            flash(_("The club was saved."), "success")
            return redirect(url_for("cdclub.club_page", club_id=club.id))
    return render_template("cdclub/club_form.html", form=form, club=club)


def _club_form_data(club: Any) -> dict[str, Any]:
    data = service.club_data(club)
    fields = {f"name_{k}": v for k, v in data.names.items()} | {f"description_{k}": v
                                                               for k, v in data.descriptions.items()}
    return fields | dict(code=data.code, books_per_period=data.books_per_period, disc_cap=data.disc_cap,
                         delivery_format=data.delivery_format, active=data.active)


def _attach(form: Any, err: service.ClubInputError) -> None:
    for name, texts in messages.field_messages(err.errors).items():
        field = getattr(form, name)
        field.errors = list(field.errors) + texts


@bp.get("/<int:club_id>")
@staff_required(*STAFF)
def club_page(club_id: int) -> Any:
    session, conf = db.session(), settings.current()
    club = service.get_club(session, club_id)
    return render_template("cdclub/club.html", club=club,
                           plans=production.club_plans(session, club, conf, _today(), count=6),
                           runs=production.runs_of(session, club),
                           members=len(service.members_of(session, club, status="active")))


@bp.get("/<int:club_id>/periods/<period>")
@staff_required("producer")
def period_page(club_id: int, period: str) -> Any:
    session = db.session()
    club = service.get_club(session, club_id)
    conf = settings.current()
    plan = production.plan_for(session, club, period, conf, _today())
    search = forms.TitleSearchForm(request.args)
    books = (production.catalogue_choices(session, plan, search.q.data or "", conf)
             if plan.editable and search.validate() else [])
    return render_template("cdclub/period.html", club=club, plan=plan, search=search, books=books)


@bp.post("/<int:club_id>/periods/<period>/titles")
@staff_required("producer")
def add_title(club_id: int, period: str) -> Any:
    session = db.session()
    club = service.get_club(session, club_id)
    book_id = request.form.get("book_id", "")
    try:
        title = production.add_title(session, club, period, int(book_id) if book_id.isdigit() else -1,
                                     now=clock.now(), actor=current_user, settings=settings.current())
    except DomainError as err:
        refused(err)
    else:
        session.commit()
        flash(_("“%(title)s” was added to the period.", title=title.title), "success")
    return redirect(url_for("cdclub.period_page", club_id=club_id, period=period))


@bp.post("/<int:club_id>/periods/<period>/titles/<int:title_id>/remove")
@staff_required("producer")
def remove_title(club_id: int, period: str, title_id: int) -> Any:
    session = db.session()
    club = service.get_club(session, club_id)
    try:
        production.remove_title(session, club, period, title_id, now=clock.now(), actor=current_user,
                                settings=settings.current())
    except DomainError as err:
        refused(err)
    else:
        session.commit()
        flash(_("The book was removed from the period."), "success")
    return redirect(url_for("cdclub.period_page", club_id=club_id, period=period))


@bp.get("/runs/<int:run_id>")
@staff_required("producer")
def run_page(run_id: int) -> Any:
    session = db.session()
    run = production.get_run(session, run_id)
    expected = service.member_counts(session).get(run.club_id, 0)
    return render_template("cdclub/run.html", run=run, picks=production.pick_list(run, expected),
                           recipients=production.recipients(session, run), sheet_size=labels.COLUMNS * labels.ROWS,
                           deliveries=production.deliveries(session, run), address_lines=labels.address_lines,
                           conf=settings.current(), can_reopen=run.state == "in_production"
                           and run.production_start > _today())


@bp.get("/runs/<int:run_id>/labels.csv")
@staff_required("producer")
def labels_csv(run_id: int) -> Any:
    session = db.session()
    run = production.get_run(session, run_id)
    fmt = request.args.get("format", "standard")
    body = labels.labels_csv(run, production.recipients(session, run), club_name=run.club.name(_lang()),
                             fmt=labels.CSV_FORMATS.get(fmt, labels.CSV_FORMATS["standard"]))
    return _download(body, "text/csv; charset=utf-8", f"labels-{run.club.code}-{run.period}.csv")


def _sheet(run: Any, title: str) -> labels.Sheet:
    conf = settings.current()
    start = request.args.get("start", "1")
    return labels.Sheet(sender=conf.return_address, marking=conf.free_postage_mark, title=title, created=clock.now(),
                        start_at=int(start) if start.isdigit() and len(start) <= 2 else 1)


@bp.get("/runs/<int:run_id>/labels.pdf")
@staff_required("producer")
def labels_pdf(run_id: int) -> Any:
    session = db.session()
    run = production.get_run(session, run_id)
    title = _("Mailing labels: %(club)s, %(period)s", club=run.club.name(_lang()), period=run.period)
    body = labels.labels_pdf(run, production.recipients(session, run), _sheet(run, title))
    return _download(body, "application/pdf", f"labels-{run.club.code}-{run.period}.pdf")


@bp.get("/runs/<int:run_id>/packing-slips.pdf")
@staff_required("producer")
def packing_slips(run_id: int) -> Any:
    session = db.session()
    run = production.get_run(session, run_id)
    heading = _("Packing slip: %(club)s, %(period)s", club=run.club.name(_lang()), period=run.period)
    words = {"label": _("Label"), "title": _("Title"), "discs": _("Discs"), "total": _("Discs in the envelope")}
    body = labels.packing_slips_pdf(run, production.recipients(session, run), _sheet(run, heading), heading=heading,
                                    labels=words)
    return _download(body, "application/pdf", f"packing-slips-{run.club.code}-{run.period}.pdf")


@bp.post("/<int:club_id>/periods/<period>/freeze")
@staff_required("producer")
def freeze(club_id: int, period: str) -> Any:
    session = db.session()
    club = service.get_club(session, club_id)
    try:
        run = production.freeze_by_hand(session, club, period, now=clock.now(), actor=current_user,
                                        settings=settings.current())
    except DomainError as err:
        refused(err)
        return redirect(url_for("cdclub.period_page", club_id=club_id, period=period))
    session.commit()
    flash(ngettext("The member list was frozen: %(num)d recipient.", "The member list was frozen: %(num)d recipients.",
                   run.recipient_count), "success")
    return redirect(url_for("cdclub.run_page", run_id=run.id))


@bp.post("/runs/<int:run_id>/reopen")
@staff_required("producer")
def reopen(run_id: int) -> Any:
    session = db.session()
    run = production.get_run(session, run_id)
    try:
        production.reopen(session, run, now=clock.now(), actor=current_user, settings=settings.current())
    except DomainError as err:
        refused(err)
        return redirect(url_for("cdclub.run_page", run_id=run_id))
    session.commit()
    flash(_("The run was reopened: its titles can change, and its member list is frozen again at the production "
            "start."), "success")
    return redirect(url_for("cdclub.period_page", club_id=run.club_id, period=run.period))


def _lang() -> str:
    from app.i18n import current_language

    return current_language()


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    resp = Response(body, content_type=mimetype)  # as given: mimetype= would add a second charset
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"  # addresses are personal data
    return resp


@bp.post("/runs/<int:run_id>/shipped")
@staff_required("producer")
def mark_shipped(run_id: int) -> Any:
    session = db.session()
    try:
        production.mark_shipped(session, production.get_run(session, run_id), actor=current_user, now=clock.now())
    except DomainError as err:
        refused(err)
    else:
        session.commit()
        flash(_("The run is marked as shipped."), "success")
    return redirect(url_for("cdclub.run_page", run_id=run_id))

