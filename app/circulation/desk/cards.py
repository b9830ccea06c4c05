"""The desk's library-card page (/staff/desk/patrons/<card>/cards): the account's cards, a new card in place
of a lost or worn one (the preset's replacement-card fee) or in addition, and blocking a card the patron
reports lost by phone. Routes on the desk blueprint; the rules are in service_cards."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock, db
from app.accounts.auth import staff_required
from app.circulation import service_cards
from app.circulation.cards_forms import IssueCardForm
from app.circulation.desk import forms
from app.circulation.desk.views import DESK_ROLES, _branch, _patron, _staff, bp
from app.errors import DomainError
from app.i18n import money

CARD_STATES: dict[str, Any] = {
    "active": _l("in use"),
    "lost": _l("lost: blocked"),
    "expired": _l("expired"),
    "replaced": _l("replaced"),
}
REFUSALS: dict[str, Any] = {
    "card_number_taken": _l("Another card already has this number. Scan another card."),
    "card_not_replaceable": _l("This card was already replaced."),
    "card_not_active": _l("This card is not in use, so there is nothing to block."),
}


def _issue_form(cards: list[service_cards.CardLine], formdata: Any = None) -> IssueCardForm:
    form = IssueCardForm() if formdata is None else IssueCardForm(formdata=formdata)
    form.replaces.choices = [(0, str(_l("is an additional card (free); the old cards stay as they are")))] + [
        (c.card_id, _("replaces card %(number)s (%(state)s)", number=c.number, state=CARD_STATES[c.status]))
        for c in cards if c.replaceable]
    return form


def _page(card: str, form: IssueCardForm | None = None, status: int = 200) -> Any:
    patron = _patron(card)
    lines = service_cards.patron_cards(db.session(), patron.id, now=clock.now())
    fee = service_cards.replacement_fee(db.session(), patron.id)
    db.session().commit()  # the primary card's row, made the first time the cards are looked at
    return render_template("desk/cards.html", patron=patron, cards=lines, card_states=CARD_STATES, fee=fee,
                           form=form or _issue_form(lines), action_form=forms.ActionForm(),
                           branch=_branch()), status


@bp.get("/patrons/<card>/cards")
@staff_required(*DESK_ROLES)
def cards_page(card: str) -> Any:
    return _page(card)


@bp.post("/patrons/<card>/cards")
@staff_required(*DESK_ROLES)
def issue_card(card: str) -> Any:
    patron = _patron(card)
    form = _issue_form(service_cards.patron_cards(db.session(), patron.id, now=clock.now()))
    if not form.validate_on_submit():
        db.session().rollback()
        return _page(card, form, 422)
    replaces = form.replaces.data or None
    result = service_cards.issue_card(db.session(), patron.id, now=clock.now(), actor=_staff(),
                                      replaces_card_id=replaces, old_card_lost=bool(form.old_card_lost.data),
                                      number=(form.number.data or "").strip() or None,
                                      charge_fee=bool(form.charge_fee.data), library_id=_staff().library_id)
    if not result.decision.allowed:
        db.session().rollback()
        form.number.errors = [str(REFUSALS.get(result.decision.reason or "", result.decision.reason))]
        return _page(card, form, 409)
    db.session().commit()
    text = _("New card %(number)s issued.", number=result.number)
    if result.fee is not None:
        text += " " + _("Replacement-card fee charged: %(amount)s.", amount=money(result.fee.minor, result.fee.currency))
    flash(text, "success")
    return redirect(url_for("desk.cards_page", card=patron.card_number))


@bp.post("/patrons/<card>/cards/<int:card_id>/lost")
@staff_required(*DESK_ROLES)
def block_card(card: str, card_id: int) -> Any:
    patron = _patron(card)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        decision = service_cards.report_card_lost(db.session(), patron.id, card_id, now=clock.now(), actor=_staff())
    except DomainError:
        abort(404)
    if decision.allowed:
        db.session().commit()
        flash(_("The card is blocked. Issue a new card when the patron comes to the desk."), "success")
    else:
        db.session().rollback()
        flash(str(REFUSALS[decision.reason or "card_not_active"]), "error")
    return redirect(url_for("desk.cards_page", card=card))
