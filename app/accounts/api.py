"""Reader-app login: card number + PIN (HTTP Basic) → a revocable bearer device token."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from app import clock, db, gate, openapi
from app.accounts import service
from app.accounts.auth import api_patron
from app.accounts.views import throttle_policy
from app.cors import allow_any_origin
from app.errors import DomainError, problem

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")
allow_any_origin(bp)  # browser-based reader apps call it from other origins


def token_json(raw: str | None, tok: Any) -> dict[str, Any]:
    body = {"id": tok.id, "token_type": "bearer", "name": tok.name, "created_at": tok.created_at.isoformat(),
            "expires_at": tok.expires_at.isoformat(),
            "expires_in": int((tok.expires_at - tok.created_at).total_seconds())}
    if raw:
        body["access_token"] = raw
    return body


@bp.post("/token")
@gate.component("reader_apps")
def create_token() -> Any:
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return problem(401, "unauthorized", headers={"WWW-Authenticate": 'Basic realm="Kuulo"'})
    result = service.authenticate_patron(db.session(), auth.username, auth.password or "", clock.now(),
                                         throttle_policy(), allow=("pin",))
    if not result.ok:
        db.session().commit()  # the failure count must stick
        if result.reason == "locked":
            retry = int((result.locked_until - clock.now()).total_seconds()) if result.locked_until else 1800
            return problem(429, "account-locked", headers={"Retry-After": str(max(retry, 1))},
                           locked_until=result.locked_until.isoformat() if result.locked_until else None)
        return problem(401, "invalid-credentials", headers={"WWW-Authenticate": 'Basic realm="Kuulo"'})
    name = (request.get_json(silent=True) or {}).get("device_name") or request.headers.get("User-Agent", "")
    raw, tok = service.issue_token(db.session(), now=clock.now(), days=current_app.config["DEVICE_TOKEN_DAYS"],
                                   patron=result.user, name=str(name))
    db.session().commit()
    return jsonify(token_json(raw, tok)), 201


@bp.delete("/token")
@api_patron
def revoke_current_token() -> Any:
    service.revoke_token(db.session(), g.api_token.id, owner=g.api_patron, now=clock.now())
    db.session().commit()
    return "", 204


@bp.get("/tokens")
@api_patron
def list_tokens() -> Any:
    tokens = service.patron_tokens(db.session(), g.api_patron)
    return jsonify({"tokens": [token_json(None, t) | {"current": t.id == g.api_token.id,
                                                      "revoked": t.revoked_at is not None} for t in tokens]})


@bp.delete("/tokens/<int:token_id>")
@api_patron
def revoke_token(token_id: int) -> Any:
    try:
        service.revoke_token(db.session(), token_id, owner=g.api_patron, now=clock.now())
    except DomainError:
        return problem(404, "not-found")
    db.session().commit()
    return "", 204


openapi.add_paths({
    "/api/v1/token": {
        "post": {"summary": "Log in a reader app with card number and PIN; returns a device token",
                 "tags": ["reader app"], "security": [{"cardPin": []}],
                 "requestBody": {"required": False, "content": {"application/json": {"schema": {
                     "type": "object", "properties": {"device_name": {"type": "string"}}}}}},
                 "responses": {"201": {"description": "Token issued", "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/DeviceToken"}}}},
                     "401": openapi.problem_response("Wrong card number or PIN"),
                     "429": openapi.problem_response("Too many wrong PINs: the card is locked (Retry-After)")}},
        "delete": {"summary": "Revoke the token used for this request", "tags": ["reader app"],
                   "security": [{"bearer": []}], "responses": {"204": {"description": "Revoked"}}},
    },
    "/api/v1/tokens": {"get": {"summary": "List the patron's device tokens", "tags": ["reader app"],
                               "security": [{"bearer": []}], "responses": {"200": {"description": "Tokens"}}}},
    "/api/v1/tokens/{token_id}": {"delete": {
        "summary": "Revoke one of the patron's device tokens", "tags": ["reader app"], "security": [{"bearer": []}],
        "parameters": [{"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"204": {"description": "Revoked"}, "404": openapi.problem_response("No such token")}}},
}, {"DeviceToken": {"type": "object", "required": ["access_token", "token_type", "expires_at"], "properties": {
    "access_token": {"type": "string"}, "token_type": {"type": "string", "enum": ["bearer"]},
    "expires_at": {"type": "string", "format": "date-time"}, "expires_in": {"type": "integer"},
    "id": {"type": "integer"}, "name": {"type": "string"}}}})
