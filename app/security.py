"""Security headers on every response, CSRF on every form (Flask-WTF), the signed session cookie."""
from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self' blob: https:; style-src 'self'; "
       "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'")


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except that a request without the cookie — every reader-app and
    library-system call, which authenticate with tokens — gets its empty session without building the
    cookie signer first (measured: a tenth of a loans poll)."""

    def open_session(self, app: Flask, request: Request) -> Any:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return SecureCookieSession()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.session_interface = SessionCookie()

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SESSION_COOKIE_SECURE"):
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp
