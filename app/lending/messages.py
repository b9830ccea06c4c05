"""Lending's refusal codes in words (translated at the edge: API problem details and page messages)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from app.i18n import format_moment


def refusal_text(code: str, params: Mapping[str, Any]) -> str:
    reason = params.get("reason")
    if code == "loan-refused" and reason == "limit_total":
        return _("You already have %(limit)s audiobooks on loan, the most allowed at once. Return one first.",
                 limit=params.get("limit", ""))
    if code == "renewal-refused" and reason == "max_renewals":
        return _("This loan has already been renewed %(count)s times, the most allowed.",
                 count=params.get("max_renewals", ""))
    if code == "renewal-refused" and reason == "too_soon":
        return _("It is too early to renew this loan: renewing now would not give you more time. You can renew "
                 "it from %(date)s.", date=format_moment(_parse(params.get("renewable_from"))))
    if code in ("loan-refused", "renewal-refused"):
        return _("Your card cannot be used for loans at the moment. Please contact your library.")
    if code == "not-available":
        return _("This audiobook is not available for new loans.")
    if code == "not-on-loan":
        return _("You do not have this audiobook on loan.")
    return ""


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def problem_detail(code: str, params: Mapping[str, Any]) -> str | None:
    return refusal_text(code, params) or None
