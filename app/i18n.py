"""Languages: the user's choice (cookie), else Accept-Language, else the default; locale formatting.

Dates and times have one set of formats, used by every page and message through three helpers (also
the Jinja filters ``date``, ``datetime`` and ``clock``):

- ``format_day``: a calendar day — fi 3.12.2026, sv 3 dec. 2026, en 3 Dec 2026 (British order, never
  the ambiguous US 12/3/26); ``long=True`` in running text: 3. joulukuuta 2026, 3 december 2026,
  3 December 2026.
- ``format_moment``: a day and a time of day in the site's time zone (BABEL_DEFAULT_TIMEZONE), minutes
  only and no zone name: fi 3.12.2026 klo 11.04, sv 3 dec. 2026 kl. 11:04, en 3 Dec 2026, 11:04.
- ``format_clock``: the time of day alone: 11.04 (fi), 11:04 (sv, en).
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.numbers import format_currency
from flask import Flask, current_app, has_app_context, redirect, request, url_for
from flask_babel import Babel, get_locale, get_timezone
from markupsafe import Markup

babel = Babel()
LANGUAGE_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English", "cs": "Česky"}
COOKIE = "kuulo_lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in languages or chosen in patron_languages():
        return chosen
    return (request.accept_languages.best_match(languages) or patron_language()
            or current_app.config["BABEL_DEFAULT_LOCALE"])


def patron_languages() -> list[str]:
    """The site's languages and those only patron pages speak (Czech: PATRON_LANGUAGES)."""
    return list(current_app.config.get("PATRON_LANGUAGES", current_app.config["LANGUAGES"]))


def patron_language() -> str | None:
    """The logged-in patron's own language (chosen with her library's default), when the browser names none of
    the site's languages."""
    from flask_login import current_user

    user = current_user._get_current_object() if current_user else None
    if user is None or not user.is_authenticated or getattr(user, "is_staff", True):
        return None
    language = getattr(user, "language", None)
    return language if language in patron_languages() else None


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def money(amount_minor: int, currency: str) -> str:
    """Format integer minor units in the current locale: 1,50 € (fi), €1.50 (en)."""
    return format_currency(Decimal(amount_minor) / 100, currency, locale=current_language())


DEFAULT_TIMEZONE = "Europe/Helsinki"  # outside an application (scripts); the app uses BABEL_DEFAULT_TIMEZONE
# Babel locales for the formats: English is written the British way (day before month, 24-hour clock).
FORMAT_LOCALES = {"fi": "fi", "sv": "sv", "en": "en_GB", "cs": "cs"}
# Between the day and the time of day, as each language writes it.
MOMENT_JOINERS = {"fi": "{day} klo {time}", "sv": "{day} kl. {time}", "en": "{day}, {time}", "cs": "{day} {time}"}


def _format_language(language: str | None) -> str:
    if language is None:
        language = current_language() if has_app_context() else "fi"
    language = language.split("_")[0].split("-")[0]
    return language if language in FORMAT_LOCALES else "en"


def format_day(value: date | None, language: str | None = None, *, long: bool = False,
               weekday: bool = False) -> str:
    """A calendar day (a datetime is first moved into the site's time zone); "" for None. ``weekday``
    puts the day's name first ("tiistai 3.12.2026"), for announcements people plan around."""
    if not isinstance(value, date):
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    locale = FORMAT_LOCALES[_format_language(language)]
    text = babel_date(value, "long" if long else "medium", locale=locale)
    return f"{babel_date(value, 'EEEE', locale=locale)} {text}" if weekday else text


def format_month(value: date | None, language: str | None = None) -> str:
    """A month and its year ("joulukuu 2026"), as a heading of a list grouped by month."""
    if not isinstance(value, date):
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return babel_date(value, "LLLL yyyy", locale=FORMAT_LOCALES[_format_language(language)])


def format_clock(value: datetime | None, language: str | None = None) -> str:
    """The time of day in the site's time zone, hours and minutes."""
    if not isinstance(value, datetime):
        return ""
    return babel_time(_local(value), "short", locale=FORMAT_LOCALES[_format_language(language)])


def format_moment(value: datetime | None, language: str | None = None, *, long: bool = False,
                  weekday: bool = False) -> str:
    """A day and a time of day in the site's time zone, without the zone's name."""
    if not isinstance(value, datetime):
        return ""
    code = _format_language(language)
    return MOMENT_JOINERS[code].format(day=format_day(value, code, long=long, weekday=weekday),
                                       time=format_clock(value, code))


def _local(value: datetime) -> datetime:
    zone = get_timezone() if has_app_context() else ZoneInfo(DEFAULT_TIMEZONE)
    if value.tzinfo is None:  # naive values are UTC in this application
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


def other_language(code: str | None) -> str | None:
    """``code`` when text in that language needs marking on the current page (WCAG 3.1.2), else None."""
    code = (code or "").strip()
    if not code or not has_app_context():
        return None
    return code if code.split("-")[0].lower() != current_language().split("_")[0] else None


def lang_attr(code: str | None) -> Markup:
    """` lang="en"` for an element whose text is in another language than the page, else nothing."""
    other = other_language(code)
    return Markup(' lang="%s"') % other if other else Markup("")


def in_lang(text: Any, code: str | None) -> Markup:
    """``text`` (escaped) inside ``<span lang>`` when it is in another language than the page: for a title
    or a name inside a translated sentence ("Kuuntelet: <span lang="en">A Small Voyage</span>")."""
    other = other_language(code)
    return Markup('<span lang="%s">%s</span>') % (other, text) if other else Markup("%s") % (text,)


def _date_filter(value: date | None, fmt: str = "medium") -> str:
    """``| date``: the standard day; "long"/"full" spell the month out; any other value is a Babel pattern
    for what is not a day ("LLLL yyyy": a month)."""
    if fmt in ("short", "medium", "long", "full"):
        return format_day(value, long=fmt in ("long", "full"))
    if not isinstance(value, date):
        return ""
    return babel_date(value, fmt, locale=FORMAT_LOCALES[_format_language(None)])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def _language_context() -> dict[str, Any]:
        return {"current_language": current_language(), "language_names": LANGUAGE_NAMES,
                "languages": app.config["LANGUAGES"] + ([current_language()] if current_language()
                                                        not in app.config["LANGUAGES"] else [])}

    # The one set of formats (module docstring); "long" and "full" spell the month out, for running text.
    app.jinja_env.filters["date"] = _date_filter
    app.jinja_env.filters["datetime"] = lambda v, fmt="medium": format_moment(v, long=fmt in ("long", "full"))
    app.jinja_env.filters["clock"] = lambda v: format_clock(v)
    app.jinja_env.filters["lang_attr"] = lang_attr
    app.jinja_env.globals["in_lang"] = in_lang
    app.jinja_env.filters["money"] = lambda v: money(v.minor, v.currency) if v is not None else ""

    @app.get("/language/<code>")
    def set_language(code: str) -> Any:
        target = request.args.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("core.home")
        resp = redirect(target)
        if code in app.config["LANGUAGES"] or code in patron_languages():
            resp.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=bool(app.config.get("SESSION_COOKIE_SECURE")))
        return resp
