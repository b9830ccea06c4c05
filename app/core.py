"""Platform pages: home, the OpenAPI document, the audit log and the letter queue (health: app/platform/health.py)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import audit, clock, db
from app.accounts.auth import staff_required
from app.notify import service as notify
from app.platform import apidocs, openapi

bp = Blueprint("core", __name__)


def audit_actor(label: str) -> str:
    """Who acted, in words: a person's name, "The applicant", or Kuulo itself for jobs and the system."""
    kind = label.partition(":")[0]
    if kind == "applicant":
        return _("The applicant")
    if kind == "system" or label == "anonymous":
        return _("Kuulo (automatic)")
    return audit.actor_name(label)


def audit_sentence(event: audit.AuditEvent) -> str | None:
    return audit.sentence(event, audit_actor(event.actor))


@bp.app_context_processor
def _audit_words() -> dict[str, Any]:
    return {"audit_actor": audit_actor, "audit_sentence": audit_sentence}


@bp.get("/")
def home() -> Any:
    return render_template("core/home.html")


@bp.get("/api/openapi.json")
def openapi_document() -> Any:
    return jsonify(openapi.document(current_app, request.url_root.rstrip("/")))


@bp.get("/api/docs")
def api_docs() -> Any:
    doc = openapi.document(current_app, request.url_root.rstrip("/"))
    return render_template("core/api_docs.html", doc=doc, operations=apidocs.operations(doc))


@bp.get("/staff/audit")
@staff_required("admin")
def audit_log() -> Any:
    filters = {k: request.args.get(k, "").strip()[:60] for k in ("record_type", "record_id", "action")}
    return render_template("core/audit.html", events=audit.events(db.session(), **filters), filters=filters)


@bp.get("/staff/letters")
@staff_required("librarian")
def letter_queue() -> Any:
    return render_template("core/letters.html", letters=notify.letters(db.session()))


@bp.post("/staff/letters/printed")
@staff_required("librarian")
def letters_printed() -> Any:
    ids = [int(i) for i in request.form.getlist("letter") if i.isdigit()]
    count = notify.mark_letters_printed(db.session(), ids, now=clock.now(), actor=current_user)
    db.session().commit()
    flash(_("%(count)d letters marked as printed.", count=count), "success")
    return redirect(url_for("core.letter_queue"))
