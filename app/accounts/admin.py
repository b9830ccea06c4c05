"""Admin pages: staff users, member libraries, the outbox and the scheduled jobs (role ``admin``).

Routes live on the accounts blueprint (registered by ``app.accounts.views``). Every change is a POST with a
CSRF token, audited by its service, and answered with a redirect and a flash message (role=status/alert).
"""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock, db
from app.accounts import admin_forms as forms
from app.accounts import admin_service, totp
from app.accounts.auth import ROLE_LABELS, staff_required
from app.accounts.models import Library, StaffUser
from app.accounts.views import bp
from app.errors import DomainError
from app.platform.links import base_url


def _refusal(err: DomainError) -> str:
    messages = {
        "last-admin": _("This is the last active administrator: give another staff user the admin role first."),
        "staff-email-taken": _("A staff user with this email address exists already."),
        "library-code-taken": _("A library with this code exists already."),
        "library-code-format": _("The code is 1–40 characters."),
        "library-name-format": _("The name is 1–200 characters."),
        "unknown-role": _("Unknown role."),
        "outbox-not-retryable": _("Only a waiting, retrying or failed message can be sent again."),
        "outbox-not-cancellable": _("Only a waiting, retrying or failed message can be cancelled."),
        "not-found": _("Not found: it may have been removed meanwhile."),
    }
    return messages.get(err.code, _("The change was refused."))


def _user_or_404(user_id: int) -> StaffUser:
    user = db.session().get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


def _library_choices() -> list[tuple[str, str]]:
    return [(str(lib.id), f"{lib.name} ({lib.code})") for lib in admin_service.libraries(db.session())]


# ----------------------------------------------------------------- users

@bp.get("/staff/admin/users")
@staff_required("admin")
def admin_users() -> Any:
    query = request.args.get("q", "").replace("\0", "").strip()[:200]
    session = db.session()
    users = admin_service.search_staff(session, query)
    tokens = admin_service.live_token_counts(session, [u.id for u in users], clock.now())
    return render_template("admin/users.html", users=users, query=query, tokens=tokens)


@bp.route("/staff/admin/users/new", methods=["GET", "POST"])
@staff_required("admin")
def admin_new_user() -> Any:
    form = forms.NewStaffForm(libraries=_library_choices())
    if form.validate_on_submit():
        session = db.session()
        library = session.get(Library, int(form.library.data)) if form.library.data else None
        try:
            user = admin_service.invite_staff(
                session, email=form.email.data, name=form.name.data, roles=list(form.roles.data or []),
                library=library, language=form.language.data, now=clock.now(), actor=current_user,
                base_url=base_url(), hours=int(current_app.config["STAFF_INVITATION_HOURS"]))
        except DomainError as err:
            session.rollback()
            form.email.errors.append(_refusal(err))
        else:
            session.commit()
            flash(_("%(email)s was created. A one-time link to set a password was emailed to them.",
                    email=user.email), "success")
            return redirect(url_for("accounts.admin_user", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


@bp.get("/staff/admin/users/<int:user_id>")
@staff_required("admin")
def admin_user(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = forms.RolesForm(roles=sorted(user.roles))
    tokens = admin_service.live_token_counts(db.session(), [user.id], clock.now()).get(user.id, 0)
    return render_template("admin/user.html", user=user, form=form, action=forms.ActionForm(), tokens=tokens,
                           totp_enabled=totp.enabled(user), role_labels=ROLE_LABELS)


def _change(user_id: int, change: Any, done: str) -> Any:
    """Run ``change(session, user, now)`` for the POST of a button: commit and say ``done``, or say why not."""
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    session = db.session()
    user = _user_or_404(user_id)
    try:
        change(session, user, clock.now())
    except DomainError as err:
        session.rollback()
        flash(_refusal(err), "error")
    else:
        session.commit()
        flash(done, "success")
    return redirect(url_for("accounts.admin_user", user_id=user_id))


@bp.post("/staff/admin/users/<int:user_id>/roles")
@staff_required("admin")
def admin_user_roles(user_id: int) -> Any:
    form = forms.RolesForm()
    if not form.validate_on_submit():
        flash(_("Unknown role."), "error")
        return redirect(url_for("accounts.admin_user", user_id=user_id))
    session = db.session()
    user = _user_or_404(user_id)
    try:
        admin_service.set_roles(session, user, set(form.roles.data or []), now=clock.now(), actor=current_user)
    except DomainError as err:
        session.rollback()
        flash(_refusal(err), "error")
    else:
        session.commit()
        flash(_("The roles of %(email)s are saved.", email=user.email), "success")
    return redirect(url_for("accounts.admin_user", user_id=user_id))


@bp.post("/staff/admin/users/<int:user_id>/disable")
@staff_required("admin")
def admin_user_disable(user_id: int) -> Any:
    return _change(user_id, lambda s, u, now: admin_service.set_active(s, u, False, now=now, actor=current_user),
                   _("The user is disabled: they cannot log in or use API tokens."))


@bp.post("/staff/admin/users/<int:user_id>/enable")
@staff_required("admin")
def admin_user_enable(user_id: int) -> Any:
    return _change(user_id, lambda s, u, now: admin_service.set_active(s, u, True, now=now, actor=current_user),
                   _("The user is enabled again."))


@bp.post("/staff/admin/users/<int:user_id>/revoke-tokens")
@staff_required("admin")
def admin_user_revoke_tokens(user_id: int) -> Any:
    return _change(user_id, lambda s, u, now: admin_service.revoke_tokens(s, u, now=now, actor=current_user),
                   _("Every API token of the user is revoked."))


@bp.post("/staff/admin/users/<int:user_id>/reset-totp")
@staff_required("admin")
def admin_user_reset_totp(user_id: int) -> Any:
    return _change(user_id, lambda s, u, now: admin_service.reset_totp(s, u, now=now, actor=current_user),
                   _("The second factor is removed. The user logs in with the password and can enrol again."))


# ----------------------------------------------------------------- libraries

@bp.route("/staff/admin/libraries", methods=["GET", "POST"])
@staff_required("admin")
def admin_libraries() -> Any:
    form = forms.LibraryForm()
    session = db.session()
    if form.validate_on_submit():
        try:
            lib = admin_service.add_library(session, code=form.code.data, name=form.name.data,
                                            municipality=form.municipality.data or "", now=clock.now(),
                                            actor=current_user)
        except DomainError as err:
            session.rollback()
            getattr(form, err.params.get("field", "code")).errors.append(_refusal(err))
        else:
            session.commit()
            flash(_("The library %(code)s was added.", code=lib.code), "success")
            return redirect(url_for("accounts.admin_libraries"))
    return render_template("admin/libraries.html", libraries=admin_service.libraries(session), form=form)


@bp.route("/staff/admin/libraries/<int:library_id>", methods=["GET", "POST"])
@staff_required("admin")
def admin_library(library_id: int) -> Any:
    session = db.session()
    lib = session.get(Library, library_id)
    if lib is None:
        abort(404)
    form = forms.RenameLibraryForm(obj=lib)
    if form.validate_on_submit():
        try:
            admin_service.rename_library(session, lib, name=form.name.data, municipality=form.municipality.data or "",
                                         now=clock.now(), actor=current_user)
        except DomainError as err:
            session.rollback()
            form.name.errors.append(_refusal(err))
        else:
            session.commit()
            flash(_("The library %(code)s is saved.", code=lib.code), "success")
            return redirect(url_for("accounts.admin_libraries"))
    return render_template("admin/library.html", library=lib, form=form)


# ----------------------------------------------------------------- outbox

@bp.get("/staff/admin/outbox")
@staff_required("admin")
def admin_outbox() -> Any:
    from app.notify import admin as outbox

    state = request.args.get("state", "")
    if state not in outbox.VIEWS:
        counts = outbox.counts(db.session())
        state = next((s for s in ("failed", "retrying", "pending") if counts[s]), "pending")
    else:
        counts = outbox.counts(db.session())
    return render_template("admin/outbox.html", counts=counts, state=state, views=outbox.VIEWS,
                           messages=outbox.messages(db.session(), state, clock.now()),
                           action=forms.ActionForm(), labels=OUTBOX_LABELS)


def _outbox_change(message_id: int, change_name: str, done: str) -> Any:
    from app.notify import admin as outbox

    if not forms.ActionForm().validate_on_submit():
        abort(400)
    session = db.session()
    try:
        getattr(outbox, change_name)(session, message_id, now=clock.now(), actor=current_user)
    except DomainError as err:
        session.rollback()
        flash(_refusal(err), "error")
    else:
        session.commit()
        flash(done, "success")
    state = request.args.get("state", "")
    return redirect(url_for("accounts.admin_outbox", state=state if state in outbox.VIEWS else None))


@bp.post("/staff/admin/outbox/<int:message_id>/retry")
@staff_required("admin")
def admin_outbox_retry(message_id: int) -> Any:
    return _outbox_change(message_id, "retry_now",
                          _("The message is due now: the next delivery run sends it."))


@bp.post("/staff/admin/outbox/<int:message_id>/cancel")
@staff_required("admin")
def admin_outbox_cancel(message_id: int) -> Any:
    return _outbox_change(message_id, "cancel", _("The message is cancelled: it will not be sent."))


def _outbox_labels() -> dict[str, Any]:
    from flask_babel import lazy_gettext as _l

    return {"pending": _l("Waiting"), "retrying": _l("Retrying"), "sending": _l("Being sent"),
            "failed": _l("Failed"), "sent": _l("Sent (last 7 days)"), "cancelled": _l("Cancelled")}


OUTBOX_LABELS = _outbox_labels()


# ----------------------------------------------------------------- jobs

@bp.get("/staff/admin/jobs")
@staff_required("admin")
def admin_jobs() -> Any:
    from app import scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    statuses = scheduler.job_statuses(db.session(), app, clock.now())
    return render_template("admin/jobs.html", statuses=statuses, action=forms.ActionForm(),
                           duration_of=scheduler.duration_of)


@bp.post("/staff/admin/jobs/<name>/run")
@staff_required("admin")
def admin_job_run(name: str) -> Any:
    """Run a job now, in this request, under the same lock as ``jobs run-once``; refused while it runs."""
    from app import audit, scheduler

    if not forms.ActionForm().validate_on_submit():
        abort(400)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        scheduler.find(name, app)
    except KeyError:
        abort(404)
    session = db.session()
    session.rollback()  # nothing of this request's session may hold the database while the job writes
    try:
        run = scheduler.run_job(app, name)
        outcome, summary = run.status, run.summary
    except Exception as exc:  # the job failed: its run is logged with the error; say so on the page
        outcome, summary = "error", exc.__class__.__name__
    audit.record(session, actor=current_user, action="job.run_now", now=clock.now(), record_type="job",
                 record_id=name, outcome=outcome)
    session.commit()
    if outcome == "skipped":
        flash(_("%(job)s is running already; it was not started again. Try again when it has finished.",
                job=name), "error")
    elif outcome == "ok":
        flash(_("%(job)s ran: %(summary)s", job=name, summary=summary or "-"), "success")
    else:
        flash(_("%(job)s failed: %(error)s", job=name, error=summary), "error")
    return redirect(url_for("accounts.admin_jobs"))
