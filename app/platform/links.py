"""The public base URL of links in emails and feeds: KUULO_BASE_URL, or in development the request's own host.

Production refuses to start without KUULO_BASE_URL (``config.check_production_settings``): a link built from
the request's Host header would point wherever a request claimed — a password-reset link to an attacker's
host. In development the request's host is what the developer typed into the browser (``localhost:5000``,
a LAN address), so the links in the mails under ``instance/mail/`` open where the app runs. Outside a
request (jobs, CLI) the fallback is ``DEVELOPMENT_FALLBACK``.

The rule lives in the app's config object (``LinkSettings``), so every ``config["BASE_URL"]`` already in the
domains follows it; new code may call ``base_url()``.
"""
from __future__ import annotations

from typing import Any

from flask import Config, current_app, has_request_context, request

DEVELOPMENT_FALLBACK = "http://127.0.0.1:5000"
_MISSING = object()


def resolve(configured: Any) -> str:
    """``configured`` when set; else the current request's host URL, or ``DEVELOPMENT_FALLBACK``."""
    if configured:
        return str(configured)
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEVELOPMENT_FALLBACK


def base_url() -> str:
    """The public base URL (no trailing slash) for links made now."""
    return resolve(dict.get(current_app.config, "BASE_URL")).rstrip("/")


class LinkSettings(Config):
    """Flask's config, where an empty ``BASE_URL`` reads as ``resolve("")``. (A plain copy — ``dict(config)``
    — holds the stored value.)"""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        return resolve(value) if key == "BASE_URL" else value

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key, _MISSING)
        if value is _MISSING:
            return default
        return resolve(value) if key == "BASE_URL" else value
