"""Rendering circulation messages for the outbox, fast enough for a nightly run of 100,000 notices.

``notify.render_message`` renders a template through Flask and Babel per message (tens of
microseconds each, mostly translation look-ups). The nightly job renders each (template,
language, channel, shape) once with placeholder values and then fills the placeholders per
message with plain text substitution, which gives the same text. Templates used this way must
only branch on the ``shape`` values, never on the per-message values.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency

from app.circulation.money import MINOR_UNIT_DIGITS, Money
from app.i18n import format_day
from app.notify.service import render_message

_PLACEHOLDER = re.compile("\x00([a-z_]+)\x00")


@lru_cache(maxsize=4096)
def date_text(day: date, language: str) -> str:
    return format_day(day, language, long=True)  # the site's one set of date formats (app/i18n.py)


@lru_cache(maxsize=4096)
def money_text(minor: int, currency: str, language: str) -> str:
    amount = Decimal(minor).scaleb(-MINOR_UNIT_DIGITS[currency])
    return format_currency(amount, currency, locale=_babel_locale(language))


def money_in(amount: Money, language: str) -> str:
    return money_text(amount.minor, amount.currency, language)


def _babel_locale(language: str) -> str:
    return language if language in ("fi", "sv", "en", "cs") else "en"


class MessageRenderer:
    """Renders messages from cached skeletons; one instance per job run (or per request)."""

    def __init__(self) -> None:
        # (template, language, channel, shape) → (subject, body) as format strings: the literal text
        # with its braces doubled, and a {name} field per placeholder.
        self._skeletons: dict[tuple[Any, ...], tuple[str, str]] = {}

    def render(self, template: str, language: str, channel: str, values: dict[str, str],
               shape: tuple[tuple[str, Any], ...] = ()) -> tuple[str, str]:
        """(subject, body) of ``template`` with ``values`` (all text) and ``shape`` (branching flags).
        Every call for one template must pass the same value names."""
        key = (template, language, channel, shape)
        skeleton = self._skeletons.get(key)
        if skeleton is None:
            placeholders: dict[str, Any] = {name: f"\x00{name}\x00" for name in values}
            subject, body = render_message(template, language, channel, {**placeholders, **dict(shape)})
            skeleton = self._skeletons[key] = (_format_string(subject), _format_string(body))
        return skeleton[0].format_map(values), skeleton[1].format_map(values)


def _format_string(rendered: str) -> str:
    """The rendered text as a str.format template: braces in the text doubled, placeholders as fields."""
    parts = _PLACEHOLDER.split(rendered)  # literal text at even indexes, placeholder names at odd ones
    return "".join("{" + part + "}" if index % 2 else part.replace("{", "{{").replace("}", "}}")
                   for index, part in enumerate(parts))
