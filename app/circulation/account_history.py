"""The patron's loan history page (/account/history): keep it or not (off by default), delete it, read it —
Koha's "privacy" setting. Routes on the My account blueprint; the rules are in service_history."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app import clock, db
from app.accounts.auth import patron_required
from app.circulation import cards_forms, service_history
from app.circulation.account_views import Subject, _page, bp


def _history_page(setting_form: cards_forms.HistorySettingForm | None = None,
                  delete_form: cards_forms.DeleteHistoryForm | None = None) -> Any:
    setting = service_history.history_setting(db.session(), current_user.id)
    if setting_form is None:
        setting_form = cards_forms.HistorySettingForm(formdata=None, keep="on" if setting.enabled else "off")
    return _page("history.html", Subject(current_user.id, None), setting=setting,
                 lines=service_history.history_of(db.session(), current_user.id), setting_form=setting_form,
                 delete_form=delete_form or cards_forms.DeleteHistoryForm(formdata=None),
                 page_size=service_history.HISTORY_PAGE)


@bp.get("/history")
@patron_required
def history() -> Any:
    return _history_page()


@bp.post("/history/setting")
@patron_required
def history_setting() -> Any:
    form = cards_forms.HistorySettingForm()
    if not form.validate_on_submit():
        return _history_page(setting_form=form), 400
    keep = form.keep.data == "on"
    service_history.set_history(db.session(), current_user.id, enabled=keep, now=clock.now(), actor=current_user)
    db.session().commit()
    flash(_("Your returned loans are now listed here.") if keep else
          _("Returned loans are no longer listed. What was kept stays until you delete it."), "success")
    return redirect(url_for(".history"))


@bp.post("/history/delete")
@patron_required
def delete_history() -> Any:
    form = cards_forms.DeleteHistoryForm()
    if not form.validate_on_submit():
        return _history_page(delete_form=form), 400
    removed = service_history.delete_history(db.session(), current_user.id, now=clock.now(), actor=current_user)
    db.session().commit()
    flash(ngettext("%(num)d entry was deleted from your loan history.",
                   "%(num)d entries were deleted from your loan history.", removed), "success")
    return redirect(url_for(".history"))
