"""Email subscriptions with double opt-in, and patrons' opt-out from advance notices.

Asking to subscribe changes nothing yet: a confirmation link goes to the address, carrying the chosen
components and language (signed, so nobody can subscribe someone else or alter the choice). The
answer never reveals whether the address was subscribed already. Every message carries a link that
unsubscribes at once.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit, db
from app.accounts.models import Patron
from app.errors import DomainError
from app.gate import COMPONENTS
from app.notify import service as notify
from app.status.models import NoticeOptOut, Subscription
from app.status.notices import OPT_OUT_SALT, UNSUBSCRIBE_SALT, public_url, signer

CONFIRM_SALT = "kuulo.status.confirm"
CONFIRM_DAYS = 7


def request_subscription(session: Session, *, email: str, language: str, components: list[str],
                         now: datetime) -> None:
    """Send a confirmation link (at most one per address, choice and day)."""
    email = email.strip().lower()
    chosen = sorted(c for c in set(components) if c in COMPONENTS)
    sub = session.scalar(select(Subscription).where(Subscription.email == email))
    if sub is None:
        sub = Subscription(email=email, language=language, components=chosen, created_at=now, updated_at=now)
        session.add(sub)
        session.flush()
    token = signer(CONFIRM_SALT).dumps({"id": sub.id, "c": chosen, "l": language, "t": now.isoformat()})
    choice = ",".join(chosen) or "all"
    notify.enqueue(session, key=f"status:confirm:s{sub.id}:{language}:{choice}:{now:%Y%m%d}"[:200],
                   channel="email", recipient=email, template="status_confirm_subscription", language=language,
                   context={"link": public_url(f"/status/subscribe/confirm/{token}"), "components": chosen,
                            "days": CONFIRM_DAYS}, now=now)


def confirm_subscription(session: Session, token: str, *, now: datetime) -> Subscription:
    try:
        data: dict[str, Any] = signer(CONFIRM_SALT).loads(token)
        issued = datetime.fromisoformat(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise DomainError("status-link-invalid", 404) from None
    if now - issued > timedelta(days=CONFIRM_DAYS):
        raise DomainError("status-link-expired", 410)
    sub = session.get(Subscription, int(data["id"]))
    if sub is None:
        raise DomainError("status-link-invalid", 404)
    sub.components = [c for c in data.get("c", []) if c in COMPONENTS]
    sub.language, sub.updated_at = data.get("l") or sub.language, now
    sub.unsubscribed_at = None
    if sub.confirmed_at is None:
        sub.confirmed_at = now
    audit.record(session, actor="system:status-subscription", action="status.subscription.confirmed", now=now,
                 record_type="status_subscription", record_id=sub.id, components=sub.components)
    return sub


def unsubscribe(session: Session, token: str, *, now: datetime) -> Subscription:
    try:
        sub_id = int(signer(UNSUBSCRIBE_SALT).loads(token))
    except (BadSignature, TypeError, ValueError):
        raise DomainError("status-link-invalid", 404) from None
    sub = session.get(Subscription, sub_id)
    if sub is None:
        raise DomainError("status-link-invalid", 404)
    if sub.unsubscribed_at is None:
        sub.unsubscribed_at = sub.updated_at = now
        audit.record(session, actor="system:status-subscription", action="status.subscription.cancelled",
                     now=now, record_type="status_subscription", record_id=sub.id)
    return sub


def stop_notices(session: Session, token: str, *, now: datetime) -> None:
    """A patron's "no more maintenance notices by email" (the link in every notice)."""
    try:
        patron_id = int(signer(OPT_OUT_SALT).loads(token))
    except (BadSignature, TypeError, ValueError):
        raise DomainError("status-link-invalid", 404) from None
    if session.get(Patron, patron_id) is None:
        raise DomainError("status-link-invalid", 404)
    session.execute(db.insert_ignoring_conflicts(session, NoticeOptOut.__table__, index_elements=("patron_id",)),
                    {"patron_id": patron_id, "created_at": now})
