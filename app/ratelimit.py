"""Rate limits per client address on the anonymous endpoints: Flask-Limiter, counters in memory or Redis."""
from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask, Response, current_app, render_template
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

from app.errors import TITLES, problem, wants_json

# Endpoint → the setting holding its limits. Only POST counts (reading a form is free), and every POST counts,
# valid or not: an invalid submission costs the server as much. Each endpoint has counters of its own.
LIMITED: dict[str, str] = {
    "institutions.apply": "RATELIMIT_SUBMISSIONS",
    "institutions_api.submit": "RATELIMIT_SUBMISSIONS",
    "status.subscribe": "RATELIMIT_SUBMISSIONS",
    "accounts.reset_request": "RATELIMIT_SUBMISSIONS",  # one page asks for patrons' PIN/password and staff links
    "accounts_api.create_token": "RATELIMIT_SIGN_IN",
    "accounts.patron_login": "RATELIMIT_SIGN_IN",
    "accounts.staff_login": "RATELIMIT_SIGN_IN",
    "accounts.staff_login_code": "RATELIMIT_SIGN_IN",  # the TOTP code of a staff login (also locked per user)
}


def enabled(config: Any) -> bool:
    """RATELIMIT_ENABLED, where None (the default) means on — except under TESTING, where a test turns it on."""
    value = config.get("RATELIMIT_ENABLED")
    return (not config.get("TESTING")) if value is None else bool(value)


def init_app(app: Flask) -> None:
    """Wrap the limited view functions; call it after every blueprint is registered."""
    endpoints = {name: setting for name, setting in LIMITED.items() if name in app.view_functions}
    for setting in set(endpoints.values()):
        parse_many(app.config[setting])  # a malformed limit stops start-up, not the first applicant
    app.extensions["kuulo_rate_limited"] = frozenset(endpoints)  # the API document lists their 429
    app.config["RATELIMIT_ENABLED"] = enabled(app.config)  # Flask-Limiter reads the same key
    if not app.config["RATELIMIT_ENABLED"]:
        return
    # Redis down: each instance counts in its own memory until Redis answers again (never a 500 for applicants).
    limiter = Limiter(get_remote_address, storage_uri=app.config["RATELIMIT_STORAGE_URL"],
                      key_prefix=app.config["RATELIMIT_KEY_PREFIX"], strategy="fixed-window",
                      in_memory_fallback_enabled=True, swallow_errors=True, headers_enabled=False)
    limiter.init_app(app)
    app.extensions["kuulo_limiter"] = limiter
    for name, setting in endpoints.items():
        app.view_functions[name] = limiter.limit(app.config[setting], methods=["POST"])(app.view_functions[name])
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def too_many_requests(err: RateLimitExceeded) -> Any:
    """429 with Retry-After: problem+json for API and JSON requests, the translated error page otherwise."""
    headers = {"Retry-After": str(retry_after_seconds(err))}
    if wants_json():
        return problem(429, "too-many-requests", headers=headers)
    page = render_template("errors/error.html", status=429, title=TITLES["too-many-requests"], err=err)
    return Response(page, status=429, headers=headers)


def retry_after_seconds(err: RateLimitExceeded) -> int:
    """Seconds until the breached window ends (its whole length if its counter cannot be read)."""
    window = int(err.limit.limit.get_expiry())
    breached = current_app.extensions["kuulo_limiter"].current_limit
    try:
        reset_at = breached.window[0] if breached is not None else None  # epoch seconds, as the counters keep
    except Exception:  # the storage went away between the check and this answer
        reset_at = None
    return window if reset_at is None else min(window, max(1, math.ceil(reset_at - time.time())))
