"""Pages for logging in and out, the patron's account basics, and changing credentials."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as web_session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app import clock, db, gate
from app.accounts import forms, service, totp
from app.accounts.auth import patron_required, staff_required
from app.accounts.models import Patron, StaffUser
from app.accounts.throttle import ThrottlePolicy
from app.errors import DomainError

bp = Blueprint("accounts", __name__)


def throttle_policy() -> ThrottlePolicy:
    from datetime import timedelta

    c = current_app.config
    return ThrottlePolicy(c["LOGIN_MAX_FAILURES"], timedelta(minutes=c["LOGIN_FAILURE_WINDOW_MINUTES"]),
                          timedelta(minutes=c["LOGIN_LOCKOUT_MINUTES"]))


def safe_next(default: str) -> str:
    target = request.args.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


def login_failure_message(reason: str | None) -> str:
    if reason == "locked":
        return _("Too many wrong attempts: this account is locked for a while. Try again later, or ask "
                 "your library to help.")
    return _("The login details are wrong. Check them and try again.")


@bp.route("/login", methods=["GET", "POST"])
@gate.component("login")
def patron_login() -> Any:
    form = forms.PatronLoginForm()
    if form.validate_on_submit():
        result = service.authenticate_patron(db.session(), form.card_number.data, form.secret.data, clock.now(),
                                             throttle_policy())
        db.session().commit()
        if result.ok:
            login_user(result.user)
            return redirect(safe_next(url_for("accounts.patron_account")))
        form.secret.errors.append(login_failure_message(result.reason))
    return render_template("accounts/patron_login.html", form=form)


@bp.route("/staff/login", methods=["GET", "POST"])
def staff_login() -> Any:
    form = forms.StaffLoginForm()
    if form.validate_on_submit():
        result = service.authenticate_staff(db.session(), form.email.data, form.password.data, clock.now(),
                                            throttle_policy())
        db.session().commit()
        if result.ok and totp.enabled(result.user):
            # The password was right; the account is logged in only after the second factor.
            web_session[TOTP_PENDING] = {"user": result.user.id, "at": clock.now().isoformat()}
            return redirect(url_for("accounts.staff_login_code", next=safe_next("") or None))
        if result.ok:
            login_user(result.user)
            return redirect(safe_next(url_for("accounts.staff_home")))
        form.password.errors.append(login_failure_message(result.reason))
    return render_template("accounts/staff_login.html", form=form)


TOTP_PENDING = "totp_pending"
TOTP_PENDING_MINUTES = 5


def _pending_totp_user() -> StaffUser | None:
    """The staff user who gave the right password in the last few minutes and now owes the code."""
    from datetime import datetime, timedelta

    pending = web_session.get(TOTP_PENDING)
    try:
        user_id, at = int(pending["user"]), datetime.fromisoformat(pending["at"])
    except (TypeError, KeyError, ValueError):
        return None
    if clock.now() - at > timedelta(minutes=TOTP_PENDING_MINUTES):
        return None
    user = db.session().get(StaffUser, user_id)
    return user if user is not None and user.active and totp.enabled(user) else None


@bp.route("/login/second-factor", methods=["GET", "POST"])
def staff_login_code() -> Any:
    """The second step of a staff login with TOTP: the code of the authenticator app."""
    user = _pending_totp_user()
    if user is None:
        web_session.pop(TOTP_PENDING, None)
        flash(_("Log in with your email address and password first."), "error")
        return redirect(url_for("accounts.staff_login"))
    form = forms.TotpCodeForm()
    if form.validate_on_submit():
        reason = totp.check_code(db.session(), user, form.code.data, now=clock.now(), config=current_app.config,
                                 policy=throttle_policy())
        db.session().commit()
        if reason is None:
            web_session.pop(TOTP_PENDING, None)
            login_user(user)
            return redirect(safe_next(url_for("accounts.staff_home")))
        form.code.errors.append(login_failure_message(reason) if reason == "locked"
                                else _("The code is wrong or already used. Type the newest code of the app."))
    return render_template("accounts/staff_login_code.html", form=form)


@bp.route("/staff/totp", methods=["GET", "POST"])
@staff_required()
def staff_totp() -> Any:
    """Enrol in the TOTP second factor: the secret as text and as an otpauth:// URI, then a code to confirm."""
    session, config = db.session(), current_app.config
    if totp.enabled(current_user):
        return render_template("accounts/staff_totp.html", enabled=True, required=False)
    form = forms.TotpCodeForm()
    if form.validate_on_submit():
        reason = totp.confirm_enrolment(session, current_user, form.code.data, now=clock.now(), config=config,
                                        policy=throttle_policy())
        session.commit()
        if reason is None:
            flash(_("The second factor is in use: from now on, logging in asks for a code of the app."), "success")
            return redirect(url_for("accounts.staff_home"))
        form.code.errors.append(login_failure_message(reason) if reason == "locked"
                                else _("The code is wrong. Check the app's clock and type the newest code."))
    secret = totp.pending_secret(current_user, config=config)
    if secret is None:
        secret = totp.begin_enrolment(session, current_user, config=config)
        session.commit()
    return render_template("accounts/staff_totp.html", enabled=False, form=form, secret=secret,
                           uri=totp.provisioning_uri(config, current_user, secret),
                           required=totp.required_for(config, current_user))


@bp.before_app_request
def _admins_enrol_first() -> Any:
    """Where administrators must use TOTP (production), an administrator without it enrols before anything else."""
    if (request.endpoint in (None, "static", "accounts.staff_totp", "accounts.logout")
            or request.blueprint in ("health", "metrics") or request.path.startswith("/api/")):
        return None  # JSON APIs use tokens; probes must not touch the database
    if not current_user.is_authenticated or not getattr(current_user, "is_staff", False):
        return None
    if totp.required_for(current_app.config, current_user):
        return redirect(url_for("accounts.staff_totp"))
    return None


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("core.home"))


@bp.get("/account")
@patron_required
def patron_account() -> Any:
    tokens = service.patron_tokens(db.session(), current_user)
    return render_template("accounts/patron_account.html", tokens=tokens, now=clock.now())


@bp.post("/account/devices/<int:token_id>/revoke")
@patron_required
def revoke_device(token_id: int) -> Any:
    service.revoke_token(db.session(), token_id, owner=current_user, now=clock.now())
    db.session().commit()
    flash(_("The device was signed out. It can no longer use your account."), "success")
    return redirect(url_for("accounts.patron_account"))


def _change_secret(form: Any, template: str, **secret: Any) -> Any:
    try:
        service.change_patron_secret(db.session(), current_user, form.current.data, now=clock.now(), **secret)
    except DomainError as err:
        form.current.errors.append(_("The current PIN or password is wrong.")
                                   if err.code == "wrong-current-secret" else str(err.code))
        return render_template(template, form=form)
    db.session().commit()
    flash(_("Your new details are saved."), "success")
    return redirect(url_for("accounts.patron_account"))


@bp.route("/account/pin", methods=["GET", "POST"])
@patron_required
def change_pin() -> Any:
    form = forms.ChangePinForm()
    if form.validate_on_submit():
        return _change_secret(form, "accounts/change_pin.html", pin=form.pin.data)
    return render_template("accounts/change_pin.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@patron_required
def change_password() -> Any:
    form = forms.ChangePatronPasswordForm()
    if form.validate_on_submit():
        return _change_secret(form, "accounts/change_password.html", password=form.password.data)
    return render_template("accounts/change_password.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@gate.component("password_reset")
def reset_request() -> Any:
    form = forms.ResetRequestForm()
    if form.validate_on_submit():
        c = current_app.config
        service.request_reset(db.session(), form.identifier.data, now=clock.now(), base_url=c["BASE_URL"],
                              hours=c["RESET_LINK_HOURS"])
        db.session().commit()
        return render_template("accounts/reset_sent.html")
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@gate.component("password_reset")
def reset_with_link(token: str) -> Any:
    link = service.find_one_time_link(db.session(), token, clock.now())
    if link is None:
        return render_template("accounts/reset_invalid.html"), 410
    patron = db.session().get(Patron, link.patron_id) if link.patron_id else None
    wants_pin = patron is not None and patron.kind == "person"
    form = (forms.SetPinForm() if wants_pin else forms.SetPatronPasswordForm() if patron
            else forms.SetStaffPasswordForm())
    if form.validate_on_submit():
        secret = {"pin": form.pin.data} if wants_pin else {"password": form.password.data}
        subject = service.use_one_time_link(db.session(), token, now=clock.now(), **secret)
        db.session().commit()
        flash(_("Your new details are saved. You can log in now."), "success")
        return redirect(url_for("accounts.staff_login" if isinstance(subject, StaffUser)
                                else "accounts.patron_login"))
    return render_template("accounts/reset_form.html", form=form, wants_pin=wants_pin)


@bp.get("/staff")
@staff_required()
def staff_home() -> Any:
    return render_template("accounts/staff_home.html")


@bp.route("/staff/password", methods=["GET", "POST"])
@staff_required()
def staff_password() -> Any:
    form = forms.ChangeStaffPasswordForm()
    if form.validate_on_submit():
        try:
            service.change_staff_password(db.session(), current_user, form.current_password.data,
                                          form.password.data, now=clock.now())
        except DomainError:
            form.current_password.errors.append(_("The current password is wrong."))
            return render_template("accounts/staff_password.html", form=form)
        db.session().commit()
        flash(_("Your new password is saved."), "success")
        return redirect(url_for("accounts.staff_home"))
    return render_template("accounts/staff_password.html", form=form)


def is_patron(user: Any) -> bool:
    return isinstance(user, Patron)


@bp.route("/staff/desk/pin", methods=["GET", "POST"])
@staff_required("librarian")
def desk_pin() -> Any:
    form = forms.DeskPinForm()
    if form.validate_on_submit():
        try:
            patron = service.set_pin_at_desk(db.session(), form.card_number.data, form.pin.data, now=clock.now(),
                                             actor=current_user)
        except DomainError:
            form.card_number.errors.append(_("No patron has this card number."))
            return render_template("accounts/desk_pin.html", form=form)
        db.session().commit()
        flash(_("The new PIN of card %(card)s is saved.", card=patron.card_number), "success")
        return redirect(url_for("accounts.desk_pin"))
    return render_template("accounts/desk_pin.html", form=form)


from app.accounts import admin  # noqa: E402,F401  (the admin pages: routes on this blueprint)
