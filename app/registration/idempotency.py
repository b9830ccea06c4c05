"""Idempotency-Key for POST /api/v1/registrations (draft-ietf-httpapi-idempotency-key-header).

Our published policy (also in the OpenAPI description):
- the key is a Structured Field string of 1–255 printable ASCII characters, e.g. ``"8e03978e-…"``
  (a bare token without quotes is accepted too); a UUID is recommended; more than one header → 400;
- keys are per staff user and kept for IDEMPOTENCY_HOURS (at least 24 hours);
- same key and same body → the stored response (same status and body) is replayed, whether it was a
  success or a validation error; same key and a different body → 422; same key while the first
  request is still running → 409. A request that failed with a server error leaves no key behind.

The key row is claimed (and committed) before the work starts, so a concurrent twin sees it; the
response is stored in the same transaction as the registration, so the two cannot disagree. A claim
whose request died (crash, killed worker) is taken over after ``lease_seconds``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.registration.models import IdempotencyKey

SF_STRING_RE = re.compile(r'^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$')  # RFC 8941 sf-string
SF_TOKEN_RE = re.compile(r"^[A-Za-z0-9*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*$")  # lenient: a bare token, even a bare UUID


class KeyInvalid(Exception):
    """The Idempotency-Key header is malformed or repeated."""


@dataclass(frozen=True)
class Claim:
    outcome: str  # "new" | "replay" | "in_flight" | "mismatch"
    row_id: int | None = None
    status: int | None = None
    body: dict[str, Any] | None = None


def key_from_headers(values: list[str]) -> str | None:
    """The key from the Idempotency-Key header, or None when there is none. Raises KeyInvalid."""
    if not values:
        return None
    if len(values) > 1:
        raise KeyInvalid()
    value = values[0].strip()
    quoted = SF_STRING_RE.match(value)
    if quoted:
        value = re.sub(r'\\(["\\])', r"\1", quoted.group(1))
    elif not SF_TOKEN_RE.match(value):
        raise KeyInvalid()
    if not 1 <= len(value) <= 255:
        raise KeyInvalid()
    return value


def fingerprint(secret: str, body: Any) -> str:
    """A keyed hash of the canonical JSON body: key order and spacing do not matter, content does."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(("idempotency:" + secret).encode(), canonical.encode(), hashlib.sha256).hexdigest()


def claim(session: Session, *, staff_user_id: int, key: str, fingerprint: str, now: datetime,
          keep_hours: int, lease_seconds: int) -> Claim:
    """Claim ``key`` for a new request, or say how to answer a repeated one. The caller commits.

    INSERT … ON CONFLICT DO NOTHING RETURNING: one statement for a new key, and a twin racing on the
    same key waits for the first claim's commit and then reads it.
    """
    for _attempt in range(3):
        new_id = session.scalar(_insert_ignoring_conflict(session).values(
            staff_user_id=staff_user_id, key=key, fingerprint=fingerprint, status="processing", created_at=now,
            locked_at=now, expires_at=now + timedelta(hours=keep_hours)).returning(IdempotencyKey.id))
        if new_id is not None:
            return Claim("new", new_id)
        row = session.execute(select(IdempotencyKey.id, IdempotencyKey.fingerprint, IdempotencyKey.status,
                                     IdempotencyKey.response_status, IdempotencyKey.response_body,
                                     IdempotencyKey.locked_at, IdempotencyKey.expires_at)
                              .where(IdempotencyKey.staff_user_id == staff_user_id,
                                     IdempotencyKey.key == key)).one_or_none()
        if row is None:
            continue  # released by a failed twin a moment ago: claim again
        if row.expires_at <= now:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
            continue
        if not hmac.compare_digest(row.fingerprint, fingerprint):
            return Claim("mismatch")
        if row.status == "completed":
            return Claim("replay", row.id, row.response_status, row.response_body)
        if row.locked_at + timedelta(seconds=lease_seconds) > now:
            return Claim("in_flight")
        taken = session.execute(update(IdempotencyKey).where(IdempotencyKey.id == row.id,
                                                             IdempotencyKey.status == "processing",
                                                             IdempotencyKey.locked_at == row.locked_at)
                                .values(locked_at=now))
        return Claim("new", row.id) if taken.rowcount == 1 else Claim("in_flight")
    return Claim("in_flight")


def _insert_ignoring_conflict(session: Session) -> Any:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(IdempotencyKey).on_conflict_do_nothing(index_elements=["staff_user_id", "key"])


def complete(session: Session, row_id: int, status: int, body: dict[str, Any]) -> None:
    """Store the response with the work it describes (same transaction)."""
    session.execute(update(IdempotencyKey).where(IdempotencyKey.id == row_id)
                    .values(status="completed", response_status=status, response_body=body))


def release(session: Session, row_id: int) -> None:
    """The request failed without an answer worth replaying: let the client retry with the same key."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id,
                                                 IdempotencyKey.status == "processing"))


def purge_expired(session: Session, now: datetime) -> int:
    return session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < now)).rowcount
