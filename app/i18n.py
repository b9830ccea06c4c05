"""Languages: the user's choice (cookie), else Accept-Language, else the default; locale formatting."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from flask import Flask, current_app, redirect, request, url_for
from flask_babel import Babel, format_date, format_datetime, get_locale

babel = Babel()
LANGUAGE_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}
COOKIE = "kuulo_lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def money(amount_minor: int, currency: str) -> str:
    """Format integer minor units in the current locale: 1,50 € (fi), €1.50 (en)."""
    return format_currency(Decimal(amount_minor) / 100, currency, locale=current_language())


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def _language_context() -> dict[str, Any]:
        return {"current_language": current_language(), "language_names": LANGUAGE_NAMES,
                "languages": app.config["LANGUAGES"]}

    app.jinja_env.filters["date"] = lambda v, fmt="medium": format_date(v, fmt) if isinstance(v, date) else ""
    app.jinja_env.filters["datetime"] = (lambda v, fmt="medium": format_datetime(v, fmt)
                                         if isinstance(v, datetime) else "")
    app.jinja_env.filters["money"] = lambda v: money(v.minor, v.currency) if v is not None else ""

    @app.get("/language/<code>")
    def set_language(code: str) -> Any:
        target = request.args.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("core.home")
        resp = redirect(target)
        if code in app.config["LANGUAGES"]:
            resp.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=bool(app.config.get("SESSION_COOKIE_SECURE")))
        return resp
