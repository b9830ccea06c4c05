"""JSON API for library systems: POST /api/v1/registrations, with Idempotency-Key support."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, json, request
from flask_babel import gettext as _

from app import clock, db, gate
from app.accounts.auth import api_staff
from app.errors import problem, validation_problem
from app.registration import idempotency, service
from app.registration.messages import messages
from app.registration.openapi_doc import describe
from app.registration.validation import RegistrationInvalid
from app.registration.views import settings

bp = Blueprint("registration_api", __name__, url_prefix="/api/v1")
gate.declare(bp, "registration")
describe()


def outcome_json(outcome: service.RegistrationOutcome) -> dict[str, Any]:
    facts = outcome.registered
    return {"patron_id": facts.patron_id, "card_number": facts.card_number, "created": outcome.created,
            "registered_at": facts.registered_at.isoformat(), "registered_by_library": facts.library_name}


def register(body: dict[str, Any]) -> Response:
    """One registration: 201 new, 200 already registered, 422 field errors, 403 without a library."""
    try:
        outcome = service.register_patron(db.session(), body, staff=g.api_user, now=clock.now(),
                                          settings=settings(), channel="api")
    except RegistrationInvalid as err:
        return validation_problem(messages(err.errors))
    except service.NoLibrary:
        return problem(403, "staff-without-library",
                       _("Your staff account belongs to no member library, so you cannot register patrons."))
    return Response(json.dumps(outcome_json(outcome)), status=201 if outcome.created else 200,
                    mimetype="application/json")


@bp.post("/registrations")
@api_staff("librarian")
def create_registration() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(400, "bad-request", _("Send the registration as a JSON object."))
    try:
        key = idempotency.key_from_headers(request.headers.getlist("Idempotency-Key"))
    except idempotency.KeyInvalid:
        return problem(400, "idempotency-key-invalid", _("The Idempotency-Key header must be one quoted string "
                                                         "of 1–255 printable characters, for example a UUID."))
    if key is None:
        resp = register(body)
        db.session().commit()
        return resp
    return with_idempotency_key(key, body, lambda: register(body))


def with_idempotency_key(key: str, body: dict[str, Any], run: Callable[[], Response]) -> Response:
    """Claim the key and commit at once (so a concurrent twin sees it), run, store the answer with the work."""
    c, session, now = current_app.config, db.session(), clock.now()
    claim = idempotency.claim(session, staff_user_id=g.api_user.id, key=key,
                              fingerprint=idempotency.fingerprint(c["IDENTITY_HASH_KEY"], body), now=now,
                              keep_hours=max(24, int(c.get("REGISTRATION_IDEMPOTENCY_HOURS", 24))),
                              lease_seconds=int(c.get("REGISTRATION_IDEMPOTENCY_LEASE_SECONDS", 60)))
    session.commit()
    if claim.outcome == "replay":
        return replay(claim.status or 200, claim.body or {})
    if claim.outcome == "mismatch":
        return problem(422, "idempotency-key-reused", _("This Idempotency-Key was already used with a different "
                                                        "request body. Use a new key for a new request."))
    if claim.outcome == "in_flight":
        return problem(409, "idempotency-key-in-flight", _("A request with this Idempotency-Key is still being "
                                                           "processed. Try again in a moment."),
                       headers={"Retry-After": "1"})
    assert claim.row_id is not None
    try:
        resp = run()
        idempotency.complete(session, claim.row_id, resp.status_code, resp.get_json())
        session.commit()
    except Exception:
        session.rollback()
        idempotency.release(session, claim.row_id)
        session.commit()
        raise
    return resp


def replay(status: int, body: dict[str, Any]) -> Response:
    mimetype = "application/problem+json" if status >= 400 else "application/json"
    return Response(json.dumps(body), status=status, mimetype=mimetype)
