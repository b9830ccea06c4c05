"""Administration of staff users and member libraries (the admin pages and the CLI share these rules).

Services flush and never commit; each takes ``now`` and ``actor`` and writes an audit event per change.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app import audit
from app.accounts import service, totp
from app.accounts.models import ROLES, ApiToken, Library, StaffRole, StaffUser
from app.errors import DomainError

SEARCH_LIMIT = 200


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search_staff(session: Session, query: str = "") -> list[StaffUser]:
    """Staff users whose name or email contains ``query`` (case-insensitive), by email."""
    statement = select(StaffUser).order_by(StaffUser.email).limit(SEARCH_LIMIT)
    query = (query or "").replace("\0", "").strip()[:200]
    if query:
        pattern = _like(query)
        statement = statement.where(or_(func.lower(StaffUser.name).like(pattern, escape="\\"),
                                        func.lower(StaffUser.email).like(pattern, escape="\\")))
    return list(session.scalars(statement))


def live_token_counts(session: Session, user_ids: list[int], now: datetime) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = session.execute(select(ApiToken.staff_user_id, func.count()).where(
        ApiToken.staff_user_id.in_(user_ids), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .group_by(ApiToken.staff_user_id))
    return {uid: count for uid, count in rows}


def ensure_an_admin_remains(session: Session, user: StaffUser, *, losing_admin: bool) -> None:
    """Refuse (409 ``last-admin``) when ``user`` is the last active administrator and would stop being one.
    The active administrators are locked, so two changes at once cannot remove the last two."""
    if not (losing_admin and user.active and "admin" in user.roles):
        return
    admins = session.scalars(select(StaffUser.id).join(StaffRole).where(
        StaffRole.role == "admin", StaffUser.active.is_(True)).with_for_update()).all()
    if set(admins) <= {user.id}:
        raise DomainError("last-admin", 409)


def check_roles(roles: list[str] | set[str]) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise DomainError("unknown-role", 422, roles=sorted(unknown))


def invite_staff(session: Session, *, email: str, name: str, roles: list[str], library: Library | None,
                 language: str, now: datetime, actor: Any, base_url: str, hours: int) -> StaffUser:
    """Create a staff user without a usable password and email a one-time link to set one (through the outbox,
    in the user's language). Only the link's hash is stored; the message body loses the link once sent."""
    from app.notify import service as notify

    email = (email or "").strip().lower()
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise DomainError("staff-email-taken", 409, field="email")
    check_roles(roles)
    user = service.create_staff_user(session, email=email, name=name.strip(), password=secrets.token_urlsafe(32),
                                     roles=sorted(set(roles)), library=library, now=now, actor=actor,
                                     language=language)
    raw = service.create_one_time_link(session, purpose="set_credentials", now=now, hours=hours,
                                       staff_user_id=user.id)
    notify.enqueue(session, key=f"staff-invitation:{user.id}", channel="email", recipient=user.email,
                   template="staff_invitation", language=language, now=now,
                   context={"name": user.name, "link": f"{base_url}/reset/{raw}", "hours": hours,
                            "login": f"{base_url}/staff/login"})
    audit.record(session, actor=actor, action="staff.invited", now=now, record_type="staff_user",
                 record_id=user.id)
    return user


def set_roles(session: Session, user: StaffUser, roles: list[str] | set[str], *, now: datetime, actor: Any) -> bool:
    """Replace ``user``'s roles; False when nothing changed. The last active admin keeps the admin role."""
    wanted = set(roles)
    check_roles(wanted)
    before = user.roles
    ensure_an_admin_remains(session, user, losing_admin="admin" in before and "admin" not in wanted)
    if before == wanted:
        return False
    user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
        StaffRole(role=r) for r in sorted(wanted - before)]
    audit.record(session, actor=actor, action="staff.roles_changed", now=now, record_type="staff_user",
                 record_id=user.id, before=sorted(before), after=sorted(wanted))
    session.flush()
    return True


def set_active(session: Session, user: StaffUser, active: bool, *, now: datetime, actor: Any) -> bool:
    """Disable (no login, no API use) or enable ``user``; False when it already was so."""
    if not active:
        ensure_an_admin_remains(session, user, losing_admin=True)
    if user.active == active:
        return False
    user.active = active
    audit.record(session, actor=actor, action="staff.enabled" if active else "staff.disabled", now=now,
                 record_type="staff_user", record_id=user.id)
    session.flush()
    return True


def revoke_tokens(session: Session, user: StaffUser, *, now: datetime, actor: Any) -> int:
    """Revoke every live API token of ``user``; how many."""
    result = session.execute(update(ApiToken).where(ApiToken.staff_user_id == user.id,
                                                    ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
                             .values(revoked_at=now).execution_options(synchronize_session=False))
    count = int(result.rowcount or 0)
    audit.record(session, actor=actor, action="staff.tokens_revoked", now=now, record_type="staff_user",
                 record_id=user.id, count=count)
    return count


def reset_totp(session: Session, user: StaffUser, *, now: datetime, actor: Any) -> None:
    totp.reset(session, user, now=now, actor=actor)


def _check_library(code: str, name: str) -> tuple[str, str]:
    code, name = (code or "").strip(), (name or "").strip()
    if not code or len(code) > 40:
        raise DomainError("library-code-format", 422, field="code")
    if not name or len(name) > 200:
        raise DomainError("library-name-format", 422, field="name")
    return code, name


def add_library(session: Session, *, code: str, name: str, municipality: str = "", now: datetime,
                actor: Any) -> Library:
    code, name = _check_library(code, name)
    if session.scalar(select(Library.id).where(Library.code == code)) is not None:
        raise DomainError("library-code-taken", 409, field="code")
    lib = Library(code=code, name=name, municipality=(municipality or "").strip()[:100])
    session.add(lib)
    session.flush()
    audit.record(session, actor=actor, action="library.created", now=now, record_type="library", record_id=lib.id,
                 code=code)
    return lib


def rename_library(session: Session, lib: Library, *, name: str, municipality: str, now: datetime,
                   actor: Any) -> bool:
    _, name = _check_library(lib.code, name)
    municipality = (municipality or "").strip()[:100]
    if (lib.name, lib.municipality) == (name, municipality):
        return False
    before = {"name": lib.name, "municipality": lib.municipality}
    lib.name, lib.municipality = name, municipality
    audit.record(session, actor=actor, action="library.renamed", now=now, record_type="library", record_id=lib.id,
                 before=before, after={"name": name, "municipality": municipality})
    session.flush()
    return True


def libraries(session: Session) -> list[Library]:
    return list(session.scalars(select(Library).order_by(Library.code)))
