"""Who is listening: a reader app's bearer device token, or HTTP Basic card number + PIN on every
request (what OPDS clients do after reading the Authentication for OPDS document).

A 401 names both schemes and links the Authentication document (rel
``http://opds-spec.org/auth/document``), so a standard client can find out how to log in.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request, url_for

from app import clock, db, gate
from app.accounts import service as accounts
from app.accounts.auth import bearer_value, challenge, refusal
from app.accounts.models import Patron
from app.accounts.views import throttle_policy
from app.errors import problem

F = TypeVar("F", bound=Callable[..., Any])
AUTH_DOCUMENT_REL = "http://opds-spec.org/auth/document"


class Locked(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def auth_document_link() -> dict[str, str]:
    auth_url = url_for("lending_opds.auth_document", _external=True)
    return {"Link": f'<{auth_url}>; rel="{AUTH_DOCUMENT_REL}"; type="application/opds-authentication+json"'}


def challenge_headers() -> dict[str, str]:
    return {**challenge(basic=True), **auth_document_link()}


def reader_from_request() -> Patron | None:
    """The patron behind the request's credentials; None when there are none or they are wrong."""
    session = db.session()
    raw = bearer_value()
    if raw is not None:
        return accounts.patron_from_bearer(session, raw, clock.now())
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return None
    now = clock.now()
    # A failure must count even though the request fails, so the attempt is committed at once; a
    # read-only request (polling) records it in a transaction of its own.
    writer = db.get_sessionmaker()() if session.info.get("read_only") else session
    try:
        result = accounts.authenticate_patron(writer, auth.username, auth.password or "", now, throttle_policy(),
                                              allow=("pin",))
        writer.commit()
    finally:
        if writer is not session:
            writer.close()
    if result.reason == "locked" and result.locked_until is not None:
        raise Locked(max(1, int((result.locked_until - now).total_seconds())))
    if not isinstance(result.user, Patron):
        return None
    return result.user if writer is session else session.get(Patron, result.user.id)


def unauthorized() -> Any:
    """401 with both schemes and the Authentication document's link; 403 for a staff token (not a reader's)."""
    return refusal("patron", basic=True, headers=auth_document_link())


def reader_required(view: F) -> F:
    """JSON routes for reader apps; the patron is in ``g.reader``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            patron = reader_from_request()
        except Locked as locked:
            return problem(429, "account-locked", headers={"Retry-After": str(locked.seconds)})
        if patron is None:
            return unauthorized()
        g.reader = patron
        return view(*args, **kwargs)

    wrapped.api_auth = "reader"  # type: ignore[attr-defined]  # read by the OpenAPI document
    return wrapped  # type: ignore[return-value]


def current_closure(component: str, language: str) -> gate.Closure | None:
    """The status provider's closure of ``component`` now (lending never imports the status package)."""
    return gate.closure_for(component, clock.now(), language)
