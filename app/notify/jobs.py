"""Outbox delivery job: one sender claims each message under a lease, sends it, records the outcome.

A run claims one message at a time (owner and lease, committed), confirms it still owns it right before
the hand-over to SMTP (renewing the lease for the hand-over), and records the outcome only while it
still owns it. A run that outlives a lease loses that message to a successor and does not send it; a
sender that died leaves its message to be taken over when the lease runs out. Delivery is therefore
at-least-once only across a crash between the server's "250" and the commit (or a hand-over that
outlasts its lease); the copy carries the same Message-ID (``channels.message_id``).
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.notify.channels import Channel, ClaimLost, DeliveryError
from app.notify.models import OutboxMessage

log = logging.getLogger("kuulo.notify")

# Short: a message whose sender died waits this long before another run takes it over. A channel asks
# for longer right before its hand-over when that may take longer (SMTP: six of its timeouts).
LEASE = timedelta(minutes=2)
BATCH = 100  # claimed per statement by claim_due's callers that take many
# One run sends until nothing is due, at most this many messages or this long (the job runs every minute;
# its lock keeps two runs apart): a night's notices for a whole country leave in minutes, not hours.
RUN_MESSAGES = 20_000
CLAIM = 20  # messages claimed per transaction
RUN_SECONDS = 50.0
SENT_CHANNELS = ("email", "sms")
PROGRESS_EVERY = 20  # a progress line (``jobs run-once``) every this many messages


def new_owner() -> str:
    """A name for one delivery run, unique across hosts and processes."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(6)}"


def _due(t: datetime) -> Any:
    """Waiting and past its backoff, or held by a sender whose lease ran out (died or hung)."""
    taken_over = (OutboxMessage.status == "sending") & (OutboxMessage.lease_until < t)
    return (or_(OutboxMessage.status == "pending", taken_over) & OutboxMessage.channel.in_(SENT_CHANNELS)
            & (OutboxMessage.next_attempt_at <= t))


def claim_due(session: Session, now: datetime, limit: int = BATCH, *, owner: str = "",
              lease: timedelta = LEASE) -> list[int]:
    """Claim up to ``limit`` due messages for ``owner`` until ``now + lease``; their ids. Each claim counts
    as an attempt, so a message whose senders keep dying also ends as failed.

    PostgreSQL locks the candidates (a concurrent claim skips them) and the UPDATE re-checks that they
    are due; SQLite runs one writing transaction at a time. (One ``UPDATE … WHERE id IN (SELECT … LIMIT
    n FOR UPDATE SKIP LOCKED)`` would not do: PostgreSQL may run the subquery again per row and claim
    more than ``n``.)"""
    ids = session.scalars(select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
                          .with_for_update(skip_locked=True)).all()
    if not ids:
        return []
    stmt = (update(OutboxMessage).where(OutboxMessage.id.in_(ids), _due(now))
            .values(status="sending", lease_owner=owner or new_owner(), lease_until=now + lease,
                    attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id).execution_options(synchronize_session=False))
    return sorted(session.scalars(stmt))


def _while_held(sm: sessionmaker[Session], message_id: int, owner: str, **values: Any) -> bool:
    """Write ``values`` if ``owner`` still holds the message (a successor changes the owner); whether it did."""
    with sm.begin() as session:
        result = session.execute(update(OutboxMessage)
                                 .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner,
                                        OutboxMessage.status == "sending")
                                 .values(**values).execution_options(synchronize_session=False))
        return result.rowcount == 1


LINK_REMOVED = "[one-time link removed after delivery]"


def without_links(message: OutboxMessage) -> dict[str, Any]:
    """The body and context of a delivered message without its one-time link (``context["link"]``, a
    ``/reset/…`` URL): once it is in the recipient's mailbox, nobody who reads the outbox can use it."""
    link = (message.context or {}).get("link")
    if not isinstance(link, str) or "/reset/" not in link:
        return {}
    return {"body": message.body.replace(link, LINK_REMOVED), "context": {**message.context, "link": LINK_REMOVED}}


def run_clock(now: datetime) -> Callable[[], datetime]:
    """``now`` advanced by the whole seconds this run has taken: leases keep time in a long run, and a
    short run (a test) keeps exactly ``now``."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=int(time.monotonic() - started))


def deliver_outbox(sm: sessionmaker[Session], now: datetime, channels: dict[str, Channel],
                   max_attempts: int = 8, backoff_seconds: int = 60, *, lease: timedelta = LEASE,
                   clock: Callable[[], datetime] | None = None, owner: str = "",
                   max_messages: int = RUN_MESSAGES, max_seconds: float = RUN_SECONDS) -> dict[str, int]:
    """Send due email and SMS until none is due or ``max_messages`` or ``max_seconds`` is reached.
    ``clock`` tells the time as the run goes on (default: ``run_clock(now)``).

    Messages are claimed ``CLAIM`` at a time (one transaction) under one lease; before each hand-over the
    run makes sure it still holds the message — from the lease it took when that leaves time enough for
    the hand-over, else by extending it in the database (only the holder can: a message being sent can't
    be cancelled or retried by staff, and a successor takes it over only after its lease ran out). What a
    run claimed but did not reach is given back at its end. The channels' connections (SMTP) are kept
    for the run and closed at its end."""
    clock = clock or run_clock(now)
    owner = owner or new_owner()
    from app.scheduler import progress

    counts = {"sent": 0, "retry": 0, "failed": 0}
    started = time.monotonic()
    claimed: list[OutboxMessage] = []
    held_until = now
    try:
        for handled in range(max_messages):
            if handled and handled % PROGRESS_EVERY == 0:
                progress(f"{handled} messages handled: {counts['sent']} sent, {counts['retry']} to retry, "
                         f"{counts['failed']} failed")
                if time.monotonic() - started > max_seconds:
                    break
            if not claimed:
                t = clock()
                with sm.begin() as session:
                    ids = claim_due(session, t, min(CLAIM, max_messages - handled), owner=owner, lease=lease)
                    claimed = list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                                   .order_by(OutboxMessage.id))) if ids else []
                held_until = t + lease
            if not claimed:
                break
            message = claimed.pop(0)
            outcome = _deliver_one(sm, message, owner, channels, lease, clock, max_attempts, backoff_seconds,
                                   held_until)
            if outcome:
                counts[outcome] += 1
    finally:
        if claimed:  # claimed but not reached: due again at once, the claim not counted as an attempt
            with sm.begin() as session:
                session.execute(update(OutboxMessage)
                                .where(OutboxMessage.id.in_([m.id for m in claimed]),
                                       OutboxMessage.lease_owner == owner, OutboxMessage.status == "sending")
                                .values(status="pending", lease_owner="", lease_until=None,
                                        attempts=OutboxMessage.attempts - 1)
                                .execution_options(synchronize_session=False))
        for channel in channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()
    return counts


def _deliver_one(sm: sessionmaker[Session], message: OutboxMessage, owner: str, channels: dict[str, Channel],
                 lease: timedelta, clock: Callable[[], datetime], max_attempts: int, backoff_seconds: int,
                 held_until: datetime) -> str:
    """Send one claimed message; what this run did with it: "sent", "retry", "failed", or "" (taken over
    before the hand-over, so not sent here)."""
    if message.attempts > max_attempts:  # its senders died mid-send each time: stop trying
        values: dict[str, Any] = dict(status="failed", last_error="delivery interrupted; it may have been sent")
        outcome = "failed"
    else:
        try:
            def still_held(hold: timedelta) -> bool:
                if clock() + hold <= held_until:
                    return True  # the claim's own lease outlasts the hand-over
                return _while_held(sm, message.id, owner, lease_until=clock() + max(lease, hold))

            channels[message.channel].send(message, still_held)
        except ClaimLost:
            log.warning("outbox message %s: taken over by another sender before the hand-over; not sent by "
                        "this one", message.id)
            return ""
        except DeliveryError as exc:
            values = dict(last_error=str(exc)[:500])
            if message.attempts >= max_attempts:
                values["status"], outcome = "failed", "failed"
            else:
                backoff = timedelta(seconds=backoff_seconds * 2 ** (message.attempts - 1))
                values.update(status="pending", next_attempt_at=clock() + backoff)
                outcome = "retry"
        else:
            values, outcome = dict(status="sent", sent_at=clock(), last_error="", **without_links(message)), "sent"
    if not _while_held(sm, message.id, owner, lease_until=None, lease_owner="", **values):
        log.warning("outbox message %s: taken over by another sender while this one sent it (outcome %s, "
                    "not recorded); a copy carries the same Message-ID", message.id, outcome)
    return outcome
