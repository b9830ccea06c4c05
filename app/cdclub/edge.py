"""Glue shared by the patron's and the librarian's membership pages: form → one service call → messages."""
from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user

from app import clock, db
from app.accounts.models import Patron
from app.cdclub import messages, service, settings
from app.cdclub.forms import AddressForm
from app.cdclub.models import Club, ClubMember
from app.errors import DomainError
from app.i18n import current_language, format_day

ACTIONS = ("pause", "resume", "leave")


def address_form(*, member: ClubMember | None = None, patron: Patron | None = None) -> AddressForm:
    """An address form, prefilled on GET from the membership or the patron's last club address."""
    form = AddressForm(language=current_language())
    if not form.is_submitted():
        if member is not None:
            form.fill(service.address_of(member))
        elif patron is not None:
            form.fill(service.last_address(db.session(), patron))
    return form


def submit_join(form: AddressForm, club: Club, patron: Patron) -> ClubMember | None:
    """Join and commit; on refusal attach the errors to the form (or flash them) and return None."""
    try:
        member = service.join_club(db.session(), club, patron, address=form.address(), now=clock.now(),
                                   actor=current_user, settings=settings.current())
    except service.ClubInputError as err:
        form.add_errors(messages.field_messages(err.errors))
        return None
    except DomainError as err:
        flash(messages.text(err.code), "error")
        return None
    db.session().commit()
    outlook = service.member_outlook(db.session(), member, settings.current(), clock.now())
    flash(_("Welcome to %(club)s. The first club books are expected around %(date)s.",
            club=club.name(current_language()), date=format_day(outlook.next_delivery, long=True)), "success")
    return member


def submit_address(form: AddressForm, member: ClubMember) -> bool:
    try:
        service.change_address(db.session(), member, form.address(), now=clock.now(), actor=current_user)
    except service.ClubInputError as err:
        form.add_errors(messages.field_messages(err.errors))
        return False
    db.session().commit()
    flash(_("The address is saved. It is used from the next production run on."), "success")
    return True


def member_action(action: str, member: ClubMember) -> None:
    """Pause, resume or leave, commit, and say what happens next."""
    session, now = db.session(), clock.now()
    try:
        if action == "pause":
            service.pause_membership(session, member, now=now, actor=current_user)
        elif action == "resume":
            service.resume_membership(session, member, now=now, actor=current_user, settings=settings.current())
        elif action == "leave":
            still_coming = service.leave_club(session, member, now=now, actor=current_user)
        else:
            raise DomainError("not-found", 404)
    except DomainError as err:
        flash(messages.text(err.code), "error")
        return
    session.commit()
    if action == "leave":
        flash(leave_message(still_coming), "success")
    elif action == "pause":
        flash(_("The membership is paused: no club books are produced for it until it is resumed."), "success")
    else:
        outlook = service.member_outlook(session, member, settings.current(), now)
        flash(_("The membership is active again. The next club books are expected around %(date)s.",
                date=format_day(outlook.next_delivery, long=True)), "success")


def leave_message(still_coming: list[Any]) -> str:
    if not still_coming:
        return _("The membership has ended. No more club books will be sent.")
    dates = ", ".join(format_day(r.delivery_date, long=True) for r in still_coming)
    return _("The membership has ended. The club books already in production will still come, around "
             "%(dates)s; after that no more.", dates=dates)
