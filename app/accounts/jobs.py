"""Housekeeping for credentials: nothing here changes a live credential."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.accounts.models import ApiToken, LoginThrottle, OneTimeLink


def purge_expired(session: Session, now: datetime) -> dict[str, int]:
    links = session.execute(delete(OneTimeLink).where(OneTimeLink.expires_at < now - timedelta(days=7)))
    tokens = session.execute(delete(ApiToken).where(ApiToken.expires_at < now - timedelta(days=90)))
    throttles = session.execute(delete(LoginThrottle).where(
        LoginThrottle.window_started_at < now - timedelta(days=1),
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now)))
    return {"links": links.rowcount, "tokens": tokens.rowcount, "throttles": throttles.rowcount}
