"""Housekeeping for credentials: nothing here changes a live credential."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import ApiToken, LoginThrottle, OneTimeLink, Patron, StaffUser


def purge_expired(session: Session, now: datetime) -> dict[str, int]:
    links = session.execute(delete(OneTimeLink).where(OneTimeLink.expires_at < now - timedelta(days=7)))
    tokens = session.execute(delete(ApiToken).where(ApiToken.expires_at < now - timedelta(days=90)))
    throttles = session.execute(delete(LoginThrottle).where(or_(_NO_ACCOUNT, and_(
        LoginThrottle.window_started_at < now - timedelta(days=1),
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now)))))
    return {"links": links.rowcount, "tokens": tokens.rowcount, "throttles": throttles.rowcount}


def _account_exists(column: Any, prefix: str) -> Any:
    """Whether the throttle row's subject is ``prefix`` + a value of ``column`` (looked up by its unique index)."""
    return select(column).where(column == func.substr(LoginThrottle.subject, len(prefix) + 1)).correlate(
        LoginThrottle).exists()


# Rows of no account: left by older versions, which counted failures for any string sent as a card number.
_CARD, _STAFF = LoginThrottle.subject.startswith("card:"), LoginThrottle.subject.startswith("staff:")
_NO_ACCOUNT = or_(and_(_CARD, ~_account_exists(Patron.card_number, "card:")),
                  and_(_STAFF, ~_account_exists(StaffUser.email, "staff:")),
                  and_(~_CARD, ~_STAFF))
