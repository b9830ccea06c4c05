"""Typed domain errors and their rendering at the edge.

Services raise ``DomainError(code, **params)`` for situations a caller must handle (not for
refusals that are ordinary answers — those are ``Decision`` values). The edge turns them
into RFC 9457 problem+json for JSON routes and a translated HTML page otherwise.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, json, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app import db, log_privacy

PROBLEM_BASE = "https://kuulo.fi/problems/"

# Translated titles for problem types and HTTP errors. Keys are stable `type` suffixes.
TITLES: dict[str, Any] = {
    "bad-request": _l("The request could not be understood."),
    "unauthorized": _l("You need to log in."),
    "forbidden": _l("You do not have permission to do this."),
    "not-found": _l("The page or resource was not found."),
    "method-not-allowed": _l("This method is not allowed here."),
    "conflict": _l("The request conflicts with the current state."),
    "payload-too-large": _l("The upload is too large."),
    "validation-error": _l("Some fields need correcting."),
    "too-many-requests": _l("Too many attempts. Try again later."),
    "service-unavailable": _l("The service is temporarily unavailable."),
    "payment-provider-unavailable": _l("The payment service cannot be reached. Please try again later."),
    "server-error": _l("Something went wrong on our side. Nothing was saved."),
    "csrf": _l("The form had expired or was sent from elsewhere. Please send it again."),
    "account-locked": _l("Too many wrong attempts: the card is locked for a while."),
    "invalid-credentials": _l("The card number or PIN is wrong."),
    "token-invalid": _l("The token is missing, expired or revoked."),
}

STATUS_TYPES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
                405: "method-not-allowed", 409: "conflict", 413: "payload-too-large",
                422: "validation-error", 429: "too-many-requests", 503: "service-unavailable",
                500: "server-error"}


class DomainError(Exception):
    """An error with a stable code; ``params`` are safe to show (never identity codes or secrets)."""

    status = 400

    def __init__(self, code: str, /, status: int | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        if status is not None:
            self.status = status
        self.params = params


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path == "/opds" or request.path.startswith("/opds/"):
        return True  # JSON APIs, and OPDS catalogues (JSON documents for reader apps)
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def problem(status: int, type_: str, detail: str | None = None, /, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    """RFC 9457 problem+json. ``extra`` members never replace type, title, status, instance or a given
    ``detail`` (an ``extra`` detail — a DomainError's param — is used when none is given)."""
    title = TITLES.get(type_)
    body = {"type": PROBLEM_BASE + type_, "title": str(title) if title else type_.replace("-", " "),
            "status": status}
    if detail:
        body["detail"] = detail
    if request:
        body["instance"] = request.path
    for key, value in extra.items():
        body.setdefault(key, value)
    resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def validation_problem(errors: dict[str, list[str]]) -> Response:
    """422 with field-level details: ``errors`` = [{"field", "message"}] and ``invalid_params`` (RFC 9457 example)."""
    items = [{"field": f, "name": f, "message": str(m), "reason": str(m)} for f, ms in errors.items() for m in ms]
    return problem(422, "validation-error", _("Some fields need correcting."), errors=items,
                   invalid_params=items)


def init_app(app: Flask) -> None:
    log_privacy.install()  # an error's log record never quotes personal data

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Any:
        title = TITLES.get(err.code)
        if wants_json():
            params = {k: v for k, v in err.params.items() if k != "headers"}
            detail = params.pop("detail", None) or (str(title) if title else None)
            return problem(err.status, err.code, detail, **params)
        return render_template("errors/error.html", status=err.status, title=title or TITLES.get(
            STATUS_TYPES.get(err.status, "bad-request")), err=err), err.status

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        status = err.code or 500
        type_ = STATUS_TYPES.get(status, "bad-request")
        if getattr(err, "description", "") and "CSRF" in str(err.description):
            type_ = "csrf"
        headers = dict(err.get_headers()) if hasattr(err, "get_headers") else {}
        headers.pop("Content-Type", None)
        if wants_json():
            return problem(status, type_, headers=headers)
        resp = Response(render_template("errors/error.html", status=status, title=TITLES.get(type_), err=err,
                                        required_role=getattr(err, "required_role", None)), status=status)
        for k, v in headers.items():
            resp.headers[k] = v
        return resp

    for error_class in db.error_classes(app):
        app.register_error_handler(error_class, _database_error)

    @app.errorhandler(500)
    def _server_error(err: Exception) -> Any:
        if wants_json():
            return problem(500, "server-error")
        return render_template("errors/error.html", status=500, title=TITLES["server-error"], err=err), 500


def _database_error(err: Exception) -> Any:
    """503 while the database cannot be reached; any other database error stays a 500 (re-raised, logged)."""
    if not db.unreachable(err):
        raise err
    current_app.logger.warning("database unreachable (%s): %s %s answered 503", type(err).__name__,
                               request.method, request.path)
    return database_unavailable()


def database_unavailable() -> Response:
    """The answer of every route while the database is down: 503, Retry-After and the status page's link."""
    status_url = current_app.config["BASE_URL"].rstrip("/") + "/status"
    headers = {"Retry-After": str(int(current_app.config.get("DATABASE_DOWN_RETRY_AFTER_SECONDS", 30))),
               "Link": f'<{request.script_root}/status>; rel="status"'}
    detail = _("Kuulo cannot reach its database at the moment. Nothing was saved. Please try again in a "
               "moment; the status page tells more.")
    if wants_json():
        return problem(503, "service-unavailable", detail, headers=headers, status_page=status_url)
    login_manager = getattr(current_app, "login_manager", None)
    if login_manager is not None:  # whoever is logged in cannot be looked up now: the page is as for a visitor
        g._login_user = login_manager.anonymous_user()
    body = render_template("errors/unavailable.html", title=TITLES["service-unavailable"],
                           status_url=request.script_root + "/status")
    return Response(body, status=503, headers=headers)
