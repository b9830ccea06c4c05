"""Reader-app login: card number + PIN (HTTP Basic) → a revocable bearer device token."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request

from app import clock, db, gate
from app.accounts import service
from app.accounts.auth import api_patron, unauthorized
from app.accounts.schemas import DeviceToken, DeviceTokens, TokenRequest
from app.accounts.views import throttle_policy
from app.cors import allow_any_origin
from app.errors import DomainError, problem
from app.platform.contract import Reply, operation

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")
allow_any_origin(bp)  # browser-based reader apps call it from other origins


TAGS = ["reader app"]


def token_json(raw: str | None, tok: Any, **extra: Any) -> DeviceToken:
    return DeviceToken(id=tok.id, token_type="bearer", name=tok.name, created_at=tok.created_at,
                       expires_at=tok.expires_at, expires_in=int((tok.expires_at - tok.created_at).total_seconds()),
                       access_token=raw or None, **extra)


@bp.post("/token")
# Signing in belongs to "login", not to borrowing ("reader_apps"): during a lending break a new device can
# still sign in and play what is already on loan; only a break of the login component itself closes it.
@gate.component("login")
@operation("Log in a reader app with card number and PIN (HTTP Basic); returns a revocable device token",
           tags=TAGS, body=TokenRequest, body_required=False, security=("cardPin",),
           responses={201: (DeviceToken, "Token issued"), 401: "Wrong card number or PIN (WWW-Authenticate)"})
def create_token(body: TokenRequest) -> Any:
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return unauthorized(basic=True)
    result = service.authenticate_patron(db.session(), auth.username, auth.password or "", clock.now(),
                                         throttle_policy(), allow=("pin",))
    if not result.ok:
        db.session().commit()  # the failure count must stick
        if result.reason == "locked":
            retry = int((result.locked_until - clock.now()).total_seconds()) if result.locked_until else 1800
            return problem(429, "account-locked", headers={"Retry-After": str(max(retry, 1))},
                           locked_until=result.locked_until.isoformat() if result.locked_until else None)
        return unauthorized("invalid-credentials", basic=True)
    name = body.device_name or request.headers.get("User-Agent", "")[:200]
    raw, tok = service.issue_token(db.session(), now=clock.now(), days=current_app.config["DEVICE_TOKEN_DAYS"],
                                   patron=result.user, name=name)
    db.session().commit()
    return token_json(raw, tok), 201


@bp.delete("/token")
@api_patron
@operation("Revoke the token used for this request (sign this device out)", tags=TAGS,
           responses={204: Reply("Revoked")})
def revoke_current_token() -> Any:
    service.revoke_token(db.session(), g.api_token.id, owner=g.api_patron, now=clock.now())
    db.session().commit()
    return "", 204


@bp.get("/tokens")
@api_patron
@operation("The patron's device tokens (never the secrets)", tags=TAGS, responses={200: (DeviceTokens, "Tokens")})
def list_tokens() -> Any:
    tokens = service.patron_tokens(db.session(), g.api_patron)
    return DeviceTokens(tokens=[token_json(None, t, current=t.id == g.api_token.id, revoked=t.revoked_at is not None)
                                for t in tokens])


@bp.delete("/tokens/<int:token_id>")
@api_patron
@operation("Revoke one of the patron's device tokens", tags=TAGS,
           responses={204: Reply("Revoked"), 404: "No such token of this patron"})
def revoke_token(token_id: int) -> Any:
    try:
        service.revoke_token(db.session(), token_id, owner=g.api_patron, now=clock.now())
    except DomainError:
        return problem(404, "not-found")
    db.session().commit()
    return "", 204
