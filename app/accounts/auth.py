"""Who is asking: Flask-Login for pages, bearer tokens for JSON APIs, and role checks."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from werkzeug.exceptions import Forbidden

from app import clock, db
from app.accounts import service
from app.accounts.models import ApiToken, Patron, StaffUser
from app.errors import DomainError, problem

login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])

ROLE_LABELS = {
    "librarian": _l("librarian of a member library"),
    "reviewer": _l("institution reviewer"),
    "producer": _l("club producer"),
    "status_editor": _l("status editor"),
    "admin": _l("administrator"),
    "circulation": _l("circulation desk"),
    "circulation-supervisor": _l("circulation supervisor"),
}


class RoleRequired(Forbidden):
    """403 that names the missing role, so the page can say what is needed."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        super().__init__()
        self.required_role = ", ".join(str(ROLE_LABELS.get(r, r)) for r in roles)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.patron_login"
    login_manager.login_message = _l("Please log in to see this page.")

    @login_manager.user_loader
    def _load(user_id: str) -> StaffUser | Patron | None:
        kind, _, ident = user_id.partition(":")
        model = StaffUser if kind == "s" else Patron if kind == "p" else None
        if model is None or not ident.isdigit():
            return None
        user = db.session().get(model, int(ident))
        return user if user is not None and user.active else None


def staff_required(*roles: str) -> Callable[[F], F]:
    """Logged-in staff with at least one of ``roles`` (admin passes every check)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or not getattr(current_user, "is_staff", False):
                return redirect(url_for("accounts.staff_login", next=request.full_path.rstrip("?")))
            if roles and not (current_user.roles & (set(roles) | {"admin"})):
                raise RoleRequired(roles)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def patron_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated or getattr(current_user, "is_staff", True):
            return redirect(url_for("accounts.patron_login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def bearer_value() -> str | None:
    """The raw token of an ``Authorization: Bearer …`` header ("" when empty); None for any other scheme."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else None


def bearer_token() -> ApiToken | None:
    raw = bearer_value()
    return None if raw is None else service.token_from_bearer(db.session(), raw, clock.now())


REALM = "kuulo"
WRONG_TOKEN = {
    "staff": _l("This API is for library systems and needs a staff API token; a reader app's device token "
                "cannot use it."),
    "patron": _l("This API is for reader apps and needs a patron's device token; a staff API token cannot "
                 "use it."),
}


def challenge(*, basic: bool = False) -> dict[str, str]:
    """The ``WWW-Authenticate`` of every 401 from the JSON API: Bearer, and Basic where card + PIN is taken."""
    schemes = [f'Bearer realm="{REALM}"'] + ([f'Basic realm="{REALM}"'] if basic else [])
    return {"WWW-Authenticate": ", ".join(schemes)}


def unauthorized(code: str = "unauthorized", *, basic: bool = False, headers: dict[str, str] | None = None,
                 **extra: Any) -> Response:
    """401 problem+json with the challenge: the one way the JSON API says "log in"."""
    return problem(401, code, headers={**challenge(basic=basic), **(headers or {})}, **extra)


def refusal(wanted: str, *, basic: bool = False, headers: dict[str, str] | None = None) -> Response:
    """The answer of a JSON route for ``wanted`` ("staff" or "patron") to a request without usable credentials:
    403 when it carries a live token of the other kind (the caller is known, the API is not theirs), else 401."""
    raw = bearer_value()
    held = service.token_kind(db.session(), raw, clock.now()) if raw else None
    if held is not None and held != wanted:
        return problem(403, "forbidden", str(WRONG_TOKEN[wanted]), required_token=wanted)
    return unauthorized(basic=basic, headers=headers)


def api_staff(*roles: str) -> Callable[[F], F]:
    """JSON routes for library systems: a staff bearer token with one of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            raw = bearer_value()
            user = None if raw is None else service.staff_from_bearer(db.session(), raw, clock.now())
            if user is None:
                return refusal("staff")
            if roles and not (user.roles & (set(roles) | {"admin"})):
                raise DomainError("forbidden", 403, required_roles=list(roles))
            g.api_user = user
            return view(*args, **kwargs)

        wrapped.api_auth = "staff"  # type: ignore[attr-defined]  # read by the OpenAPI document
        return wrapped  # type: ignore[return-value]

    return decorator


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_patron() -> Patron | Response | None:
    """The patron logged in to the browser when a JSON request carries no Authorization header: the
    patron (CSRF checked for unsafe methods, the X-CSRFToken header), a 403 answer, or None."""
    if "Authorization" in request.headers or not current_user.is_authenticated \
            or getattr(current_user, "is_staff", True):
        return None
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        from flask_wtf.csrf import ValidationError, validate_csrf

        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except ValidationError:
            return problem(403, "forbidden", str(CSRF_MISSING))
    return current_user._get_current_object()  # type: ignore[no-any-return]


CSRF_MISSING = _l("A change made with the browser's login needs the page's CSRF token in the X-CSRFToken header.")


def api_patron_or_session(view: F) -> F:
    """JSON routes for the patron herself: a device token (as ``api_patron``), or the patron logged in
    to the browser (no Authorization header; unsafe methods need the CSRF token in X-CSRFToken).
    ``g.api_token`` is None for the browser session."""
    token_view = api_patron(view)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        by_session = session_patron()
        if isinstance(by_session, Response):
            return by_session
        if by_session is not None:
            g.api_patron, g.api_token = by_session, None
            return view(*args, **kwargs)
        return token_view(*args, **kwargs)

    wrapped.api_auth = "patron"  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def api_patron(view: F) -> F:
    """JSON routes for reader apps: a patron device token."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        tok = bearer_token()
        patron = db.session().get(Patron, tok.patron_id) if tok and tok.patron_id else None
        if patron is None or not patron.active:
            return refusal("patron")
        g.api_patron, g.api_token = patron, tok
        return view(*args, **kwargs)

    wrapped.api_auth = "patron"  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]
