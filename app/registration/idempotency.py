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

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from app.db import insert_ignoring_conflicts
from app.registration.models import IdempotencyKey

KEYS = IdempotencyKey.__table__  # Core statements: none of this needs the ORM's bookkeeping

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
        new_id = session.scalar(insert_ignoring_conflicts(session, KEYS, index_elements=("staff_user_id", "key"),
                                                          returning=("id",)),
                                {"staff_user_id": staff_user_id, "key": key, "fingerprint": fingerprint,
                                 "status": "processing", "response_status": None, "response_body": None,
                                 "created_at": now, "locked_at": now, "expires_at": now + timedelta(hours=keep_hours)})
        if new_id is not None:
            return Claim("new", new_id)
        row = session.execute(_CLAIMED, {"staff_user_id": staff_user_id, "key": key}).one_or_none()
        if row is None:
            continue  # released by a failed twin a moment ago: claim again
        if row.expires_at <= now:
            session.execute(delete(KEYS).where(KEYS.c.id == row.id))
            continue
        if not hmac.compare_digest(row.fingerprint, fingerprint):
            return Claim("mismatch")
        if row.status == "completed":
            return Claim("replay", row.id, row.response_status, row.response_body)
        if row.locked_at + timedelta(seconds=lease_seconds) > now:
            return Claim("in_flight")
        taken = session.execute(update(KEYS).where(KEYS.c.id == row.id, KEYS.c.status == "processing",
                                                   KEYS.c.locked_at == row.locked_at).values(locked_at=now))
        return Claim("new", row.id) if taken.rowcount == 1 else Claim("in_flight")
    return Claim("in_flight")


_CLAIMED = (select(KEYS.c.id, KEYS.c.fingerprint, KEYS.c.status, KEYS.c.response_status, KEYS.c.response_body,
                   KEYS.c.locked_at, KEYS.c.expires_at)
            .where(KEYS.c.staff_user_id == bindparam("staff_user_id"), KEYS.c.key == bindparam("key")))
_COMPLETE = (update(KEYS).where(KEYS.c.id == bindparam("row_id"))
             .values(status="completed", response_status=bindparam("response_status"),
                     response_body=bindparam("response_body")))


def complete(session: Session, row_id: int, status: int, body: dict[str, Any]) -> None:
    """Store the response with the work it describes (same transaction)."""
    session.execute(_COMPLETE, {"row_id": row_id, "response_status": status, "response_body": body})


def release(session: Session, row_id: int) -> None:
    """The request failed without an answer worth replaying: let the client retry with the same key."""
    session.execute(delete(KEYS).where(KEYS.c.id == row_id, KEYS.c.status == "processing"))


def purge_expired(session: Session, now: datetime) -> int:
    return session.execute(delete(KEYS).where(KEYS.c.expires_at < now)).rowcount
