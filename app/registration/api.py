"""JSON API for library systems: POST /api/v1/registrations, with Idempotency-Key support."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, json, request
from flask_babel import gettext as _

from app import clock, db, gate
from app.accounts.auth import api_staff
from app.errors import problem, validation_problem
from app.platform.contract import Header, operation
from app.registration import idempotency, service
from app.registration.messages import messages
from app.registration.schemas import RegistrationRequest, RegistrationResult
from app.registration.validation import RegistrationInvalid
from app.registration.views import settings

bp = Blueprint("registration_api", __name__, url_prefix="/api/v1")
gate.declare(bp, "registration")

IDEMPOTENCY_KEY = Header(
    "Idempotency-Key", "draft-ietf-httpapi-idempotency-key-header: a Structured Field string such as "
    "\"8e03978e-40d5-43e8-bc93-6894a57f9324\" (a UUID is recommended). Keys are per staff user and kept at least "
    "24 hours. Same key and same body: the stored response is replayed (same status and body). Same key, "
    "different body: 422. Same key while the first request runs: 409.", max_length=257,
    pattern="^(?:" + idempotency.SF_STRING_RE.pattern[1:-1].replace(")*)", ")+)") + "|"
            + idempotency.SF_TOKEN_RE.pattern[1:-1] + ")$")


def outcome_json(outcome: service.RegistrationOutcome) -> dict[str, Any]:
    facts = outcome.registered
    return RegistrationResult(patron_id=facts.patron_id, card_number=facts.card_number, created=outcome.created,
                              registered_at=facts.registered_at,
                              registered_by_library=facts.library_name).model_dump(mode="json")


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
@operation(
    "Register a patron (remote registration by a librarian of a member library)",
    description="Registers a person once. An identity code already registered is an answer, not an error: 200 "
                "with created=false and the existing patron. Concurrent identical requests create exactly one "
                "patron.",
    tags=["registration"], body=RegistrationRequest, headers=(IDEMPOTENCY_KEY,),
    responses={201: (RegistrationResult, "Registered; the credentials are emailed once"),
               200: (RegistrationResult, "Already registered (created=false): the existing patron"),
               400: "Not a JSON object, or a malformed Idempotency-Key",
               403: "Not a librarian, the staff account belongs to no library, or not a staff token",
               409: "A request with this Idempotency-Key is still running (Retry-After)",
               422: "Field errors (`errors`: field and message) — also the identity code's check character, "
                    "temporary codes and the guardian rules for under-15s — or an Idempotency-Key reused with "
                    "another body"})
def create_registration(body: RegistrationRequest) -> Any:
    return registration_answer(body.model_dump(exclude_none=True))


def registration_answer(body: dict[str, Any]) -> Response:
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
