"""TOTP second factor for staff logins (RFC 6238, pyotp): enrolment, checking codes, reset by an admin.

The secret is stored encrypted (Fernet, key ``TOTP_ENCRYPTION_KEY`` or derived from ``SECRET_KEY``) and is
never logged. Enrolment stores a new secret unconfirmed; only a verified code turns the factor on. Code
attempts are throttled per user with the login throttle (``app/accounts/throttle.py``); a code is accepted
once (``totp_last_step``), so a code seen over someone's shoulder cannot be replayed in the same 30 seconds.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

import pyotp
from cryptography.fernet import Fernet, InvalidToken

from app import audit
from app.accounts import throttle
from app.accounts.models import StaffUser
from app.config import is_production
from app.errors import DomainError

STEP_SECONDS = 30
VALID_WINDOW = 1  # accept the previous and the next code as well: clocks of phones drift


def _fernet(config: Any) -> Fernet:
    material = str(config.get("TOTP_ENCRYPTION_KEY") or "") or "kuulo-totp:" + str(config["SECRET_KEY"])
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


def encrypt(config: Any, secret: str) -> str:
    return _fernet(config).encrypt(secret.encode()).decode()


def decrypt(config: Any, stored: str | None) -> str | None:
    """The plain secret, or None when none is stored or it cannot be read (the key changed)."""
    if not stored:
        return None
    try:
        return _fernet(config).decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def enabled(user: Any) -> bool:
    return bool(getattr(user, "totp_enabled_at", None))


def required_for(config: Any, user: Any) -> bool:
    """Whether ``user`` must enrol before doing anything else: an administrator, where admins must use TOTP."""
    setting = config.get("TOTP_REQUIRED_FOR_ADMINS")
    must = is_production(config) if setting is None else bool(setting)
    return must and getattr(user, "is_staff", False) and "admin" in user.roles and not enabled(user)


def provisioning_uri(config: Any, user: StaffUser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=str(config.get("TOTP_ISSUER") or "Kuulo"))


def begin_enrolment(session: Any, user: StaffUser, *, config: Any) -> str:
    """A new secret for ``user``, stored unconfirmed (a factor already in use stays until reset); returns it."""
    if enabled(user):
        raise DomainError("totp-already-enabled", 409)
    secret = pyotp.random_base32()
    user.totp_secret = encrypt(config, secret)
    session.flush()
    return secret


def pending_secret(user: StaffUser, *, config: Any) -> str | None:
    return None if enabled(user) else decrypt(config, user.totp_secret)


def _subject(user: StaffUser) -> str:
    return f"totp:staff:{user.id}"


def check_code(session: Any, user: StaffUser, code: str, *, now: datetime, config: Any,
               policy: throttle.ThrottlePolicy) -> str | None:
    """None when ``code`` is right for ``user``'s secret at ``now`` (and not used before); else "invalid"
    or "locked". Failures count towards the same lockout as wrong passwords, per user."""
    subject = _subject(user)
    if throttle.locked_until(session, subject, now) is not None:
        return "locked"
    secret = decrypt(config, user.totp_secret)
    code = "".join((code or "").split())
    step = int(now.timestamp()) // STEP_SECONDS
    matched = None
    if secret and code.isdigit() and len(code) == 6:
        totp = pyotp.TOTP(secret)
        for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
            if pyotp.utils.strings_equal(totp.at(now, counter_offset=offset), code):
                matched = step + offset
                break
    if matched is None or (user.totp_last_step is not None and matched <= user.totp_last_step):
        until = throttle.register_failure(session, subject, now, policy, f"staff_user:{user.id}")
        return "locked" if until else "invalid"
    throttle.clear(session, subject)
    user.totp_last_step = matched
    session.flush()
    return None


def confirm_enrolment(session: Any, user: StaffUser, code: str, *, now: datetime, config: Any,
                      policy: throttle.ThrottlePolicy) -> str | None:
    """Turn the factor on when ``code`` matches the pending secret; None on success, else the reason."""
    if enabled(user):
        raise DomainError("totp-already-enabled", 409)
    if not pending_secret(user, config=config):
        raise DomainError("totp-not-started", 409)
    reason = check_code(session, user, code, now=now, config=config, policy=policy)
    if reason is None:
        user.totp_enabled_at = now
        audit.record(session, actor=user, action="staff.totp_enabled", now=now, record_type="staff_user",
                     record_id=user.id)
        session.flush()
    return reason


def reset(session: Any, user: StaffUser, *, now: datetime, actor: Any) -> None:
    """Remove ``user``'s second factor (lost phone): the next login asks only for the password, and an
    administrator in production is sent to enrol again."""
    had = enabled(user)
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    throttle.clear(session, _subject(user))
    audit.record(session, actor=actor, action="staff.totp_reset", now=now, record_type="staff_user",
                 record_id=user.id, was_enabled=had)
    session.flush()
