"""Pages of self-service: the terminals' admin page (role admin), the desk's view of a patron's self-service
standing and door log (role circulation), and the patron's own page in My account.

Every change is a POST with a CSRF token, audited by its service, answered with a redirect and a flash
message. Business rules live in ``service_selfservice``; these views own the transaction."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app import audit, clock, db
from app.accounts.auth import patron_required, staff_required
from app.circulation import service
from app.circulation import service_selfservice as selfservice
from app.circulation.models import Branch, CircLibrary
from app.circulation.sip2 import forms
from app.circulation.sip2.handlers import DOOR_TEXTS
from app.errors import DomainError
from app.navigation import StaffLink, add_patron_link, add_staff_link
from app.platform.bodies import is_storable

DESK_ROLES = ("circulation", "circulation-supervisor")
bp = Blueprint("selfservice", __name__)

audit.describe({
    "selfservice.terminal_added": _l("%(who)s added the self-service terminal %(name)s at %(branch)s."),
    "selfservice.terminal_disabled": _l("%(who)s disabled the self-service terminal %(name)s."),
    "selfservice.terminal_enabled": _l("%(who)s enabled the self-service terminal %(name)s."),
    "selfservice.terminal_password": _l("%(who)s set a new password for the self-service terminal %(name)s."),
    "selfservice.door": _l("Self-service door at %(branch)s: %(reason)s."),
    "selfservice.patron_standing": _l("%(who)s changed the self-service standing."),
    "selfservice.card_blocked": _l("%(who)s blocked the card for self-service."),
    "selfservice.card_unblocked": _l("%(who)s lifted the self-service block of the card."),
})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_staff_link(StaffLink("selfservice.terminals", _l("Self-service terminals (SIP2)"), ("admin",)))
    add_patron_link("selfservice.account", _l("Self-service library"))


def _refusal(err: DomainError) -> str:
    return {
        "terminal-exists": _("A terminal with this name exists already."),
        "invalid-terminal-name": _("The name is 1–80 characters without a | sign."),
        "password-too-short": _("The password is 10–200 characters."),
        "not-found": _("Not found: it may have been removed meanwhile."),
    }.get(err.code, _("The change was refused."))


def door_reason(code: str) -> str:
    text = DOOR_TEXTS.get(code)
    return str(text) if text is not None else code


# -- admin: terminals -------------------------------------------------------------------------------


def _branches() -> list[tuple[Branch, CircLibrary]]:
    return [(b, lib) for b, lib in db.session().execute(
        select(Branch, CircLibrary).join(CircLibrary, CircLibrary.id == Branch.library_id)
        .order_by(CircLibrary.code, Branch.name, Branch.id))]


def _terminal_form() -> forms.TerminalForm:
    form = forms.TerminalForm()
    form.branch.choices = [SelectChoice(b.id, f"{b.name} ({lib.code}/{b.code})") for b, lib in _branches()]
    return form


def _terminals_page(form: forms.TerminalForm, status: int = 200) -> Any:
    rows = selfservice.list_terminals(db.session())
    return render_template("selfservice/terminals.html", rows=rows, form=form, action=forms.ActionForm(),
                           password_form=forms.PasswordForm()), status


@bp.get("/staff/admin/terminals")
@staff_required("admin")
def terminals() -> Any:
    return _terminals_page(_terminal_form())


@bp.post("/staff/admin/terminals")
@staff_required("admin")
def add_terminal() -> Any:
    form = _terminal_form()
    if not form.validate_on_submit():
        return _terminals_page(form, 422)
    session = db.session()
    where = {b.id: f"{lib.code}/{b.code}" for b, lib in _branches()}.get(form.branch.data)
    if where is None:
        form.branch.errors.append(_("Choose one of the branches listed."))
        return _terminals_page(form, 422)
    try:
        terminal = selfservice.add_terminal(session, name=form.name.data, password=form.password.data,
                                            branch=where, now=clock.now(), actor=current_user,
                                            language=form.language.data, charset=form.charset.data)
    except DomainError as err:
        session.rollback()
        getattr(form, err.params.get("field", "name")).errors.append(_refusal(err))
        return _terminals_page(form, 409 if err.status == 409 else 422)
    session.commit()
    flash(_("The terminal %(name)s was added.", name=terminal.name), "success")
    return redirect(url_for("selfservice.terminals"))


def _terminal_change(terminal_id: int, change: Any, done: str) -> Any:
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    session = db.session()
    try:
        terminal = change(session, terminal_id)
    except DomainError as err:
        session.rollback()
        flash(_refusal(err), "error")
    else:
        session.commit()
        flash(done % {"name": terminal.name}, "success")
    return redirect(url_for("selfservice.terminals"))


@bp.post("/staff/admin/terminals/<int:terminal_id>/disable")
@staff_required("admin")
def disable_terminal(terminal_id: int) -> Any:
    return _terminal_change(terminal_id, lambda s, key: selfservice.set_terminal_enabled(
        s, key, False, now=clock.now(), actor=current_user),
        _("The terminal %(name)s is disabled: it can no longer log in or open the door."))


@bp.post("/staff/admin/terminals/<int:terminal_id>/enable")
@staff_required("admin")
def enable_terminal(terminal_id: int) -> Any:
    return _terminal_change(terminal_id, lambda s, key: selfservice.set_terminal_enabled(
        s, key, True, now=clock.now(), actor=current_user), _("The terminal %(name)s is enabled again."))


@bp.post("/staff/admin/terminals/<int:terminal_id>/password")
@staff_required("admin")
def terminal_password(terminal_id: int) -> Any:
    form = forms.PasswordForm()
    if not form.validate_on_submit():
        for error in form.password.errors or [_("The change was refused.")]:
            flash(str(error), "error")
        return redirect(url_for("selfservice.terminals"))
    return _terminal_change(terminal_id, lambda s, key: selfservice.reset_terminal_password(
        s, key, form.password.data, now=clock.now(), actor=current_user),
        _("The terminal %(name)s has a new password. Enter it in the terminal's settings."))


# -- the desk ------------------------------------------------------------------------------------------


def _desk_patron(card: str) -> Any:
    if len(card) > 20 or not is_storable(card):
        abort(404)
    session = db.session()
    library = service.desk_library(session, current_user._get_current_object())
    try:
        return service.patron_in_library(session, card, library.id if library else None)
    except DomainError:
        abort(404)


@bp.get("/staff/desk/patrons/<card>/self-service")
@staff_required(*DESK_ROLES)
def desk_patron(card: str) -> Any:
    patron = _desk_patron(card)
    info = selfservice.standing(db.session(), patron.id, now=clock.now())
    db.session().commit()
    return render_template("selfservice/desk_patron.html", patron=patron, info=info, action=forms.ActionForm(),
                           door_reason=door_reason)


DESK_CHANGES: dict[str, tuple[dict[str, bool], Any]] = {
    "terms": ({"terms_accepted": True}, _l("The self-service terms are recorded as accepted.")),
    "consent": ({"guardian_consent": True}, _l("The guardian's consent is recorded.")),
    "withdraw-consent": ({"guardian_consent": False}, _l("The guardian's consent is withdrawn.")),
    "activate": ({"activated": True}, _l("Self-service is activated for the card.")),
    "deactivate": ({"activated": False}, _l("The self-service activation is withdrawn.")),
}


@bp.post("/staff/desk/patrons/<card>/self-service/<change>")
@staff_required(*DESK_ROLES)
def desk_change(card: str, change: str) -> Any:
    if change not in (*DESK_CHANGES, "unblock"):
        abort(404)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    patron = _desk_patron(card)
    session = db.session()
    if change == "unblock":
        selfservice.unblock_card(session, patron.id, now=clock.now(), actor=current_user)
        done: Any = _l("The self-service block of the card is lifted.")
    else:
        values, done = DESK_CHANGES[change]
        selfservice.set_patron_self_service(session, patron.id, now=clock.now(), actor=current_user, **values)
    session.commit()
    flash(str(done), "success")
    return redirect(url_for("selfservice.desk_patron", card=card))


# -- My account ----------------------------------------------------------------------------------------


@bp.get("/account/self-service")
@patron_required
def account() -> Any:
    info = selfservice.standing(db.session(), current_user.id, now=clock.now())
    db.session().commit()
    return render_template("selfservice/account.html", info=info, action=forms.ActionForm(),
                           door_reason=door_reason)


@bp.post("/account/self-service/accept-terms")
@patron_required
def accept_terms() -> Any:
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    session = db.session()
    selfservice.set_patron_self_service(session, current_user.id, now=clock.now(), actor=current_user,
                                        terms_accepted=True)
    session.commit()
    flash(_("You have accepted the self-service terms."), "success")
    return redirect(url_for("selfservice.account"))
