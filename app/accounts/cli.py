"""`flask --app app accounts …` and `libraries …`: staff accounts, roles, API tokens and member libraries."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit, clock, db
from app.accounts import service
from app.accounts.models import ROLES, Library, StaffRole, StaffUser
from app.errors import DomainError

ACTOR = "cli"
MIN_PASSWORD = 10  # as service.check_staff_password and the web forms

accounts_cli = AppGroup("accounts", help="Staff accounts, roles and API tokens.")
libraries_cli = AppGroup("libraries", help="Member libraries (whose librarians use Kuulo).")
ROLE_OPTION = click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
                           help="A role; repeat for several")


@contextmanager
def _transaction() -> Iterator[Session]:
    with db.get_sessionmaker(current_app._get_current_object()).begin() as session:  # type: ignore[attr-defined]
        yield session


def _staff(session: Session, email: str, *, lock: bool = False) -> StaffUser:
    query = select(StaffUser).where(StaffUser.email == email.strip().lower())
    user = session.scalar(query.with_for_update() if lock else query)
    if user is None:
        raise click.ClickException(f"no staff user {email}")
    return user


def _library(session: Session, code: str) -> Library:
    lib = session.scalar(select(Library).where(Library.code == code))
    if lib is None:
        known = session.scalars(select(Library.code).order_by(Library.code)).all()
        hint = (f"known codes: {', '.join(known)}" if known
                else "there are no libraries yet; add one with `flask --app app libraries add CODE --name NAME`")
        raise click.ClickException(f"unknown library code {code!r}; {hint}")
    return lib


def _check_new_staff(session: Session, email: str, library: str | None) -> Library | None:
    if "@" not in email.strip() or len(email.strip()) > 254:
        raise click.ClickException(f"not an email address: {email!r}")
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email.strip().lower())) is not None:
        raise click.ClickException(f"a staff user {email.strip().lower()} already exists")
    return _library(session, library) if library else None


def _keep_an_admin(session: Session, user: StaffUser, *, losing_admin: bool) -> None:
    """Refuse when ``user`` is the last active administrator and would stop being one."""
    from app.accounts.admin_service import ensure_an_admin_remains

    try:
        ensure_an_admin_remains(session, user, losing_admin=losing_admin)  # the same rule as the admin pages
    except DomainError:
        raise click.ClickException(f"{user.email} is the last active administrator; "
                                   "give another staff user the admin role first") from None


@accounts_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="A name that says what the token is for")
def token_command(email: str, name: str) -> None:
    """Print a new bearer token for the staff user EMAIL (last line of the output)."""
    with _transaction() as session:
        user = _staff(session, email)
        raw, tok = service.issue_token(session, now=clock.now(), days=current_app.config["STAFF_TOKEN_DAYS"],
                                       staff=user, name=name)
        click.echo(f"token {tok.id} for {user.email}, expires {tok.expires_at:%Y-%m-%d}", err=True)
    click.echo(raw)


@accounts_cli.command("create-staff")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name")
@click.option("--library", default=None, metavar="CODE", help="Code of the member library (librarians)")
@ROLE_OPTION
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input")
def create_staff_command(email: str, name: str, library: str | None, roles: tuple[str, ...],
                         password_stdin: bool) -> None:
    """Create a staff user EMAIL (also the first administrator of a fresh install).

    The password is never an argument: it is asked twice (hidden), or read with --password-stdin.
    """
    with _transaction() as session:
        _check_new_staff(session, email, library)  # refuse before asking for a password
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        service.check_staff_password(password)
    except DomainError:
        raise click.ClickException(f"the password is too short: at least {MIN_PASSWORD} characters") from None
    with _transaction() as session:
        lib = _check_new_staff(session, email, library)
        user = service.create_staff_user(session, email=email, name=name.strip(), password=password,
                                         roles=sorted(set(roles)), library=lib, now=clock.now(), actor=ACTOR)
        address = user.email
    click.echo(f"created staff user {address} ({', '.join(sorted(set(roles)))})")


@accounts_cli.command("list")
def list_command() -> None:
    """List the staff users: email, name, library, roles, active."""
    with _transaction() as session:
        rows = [(u.email, u.name, u.library.code if u.library else "-", ",".join(sorted(u.roles)) or "-",
                 "active" if u.active else "disabled")
                for u in session.scalars(select(StaffUser).order_by(StaffUser.email))]
    header = ("EMAIL", "NAME", "LIBRARY", "ROLES", "STATUS")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[4])


@accounts_cli.command("set-roles")
@click.argument("email")
@ROLE_OPTION
def set_roles_command(email: str, roles: tuple[str, ...]) -> None:
    """Replace the roles of the staff user EMAIL with the given ones."""
    wanted = set(roles)
    with _transaction() as session:
        user = _staff(session, email, lock=True)
        before = user.roles
        _keep_an_admin(session, user, losing_admin="admin" not in wanted)
        user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
            StaffRole(role=r) for r in sorted(wanted - before)]
        if before != wanted:
            audit.record(session, actor=ACTOR, action="staff.roles_changed", now=clock.now(),
                         record_type="staff_user", record_id=user.id, before=sorted(before), after=sorted(wanted))
        address = user.email
    click.echo(f"{address}: {', '.join(sorted(wanted))}")


def _set_active(email: str, active: bool) -> None:
    with _transaction() as session:
        user = _staff(session, email, lock=True)
        if not active:
            _keep_an_admin(session, user, losing_admin=True)
        if user.active != active:
            user.active = active
            audit.record(session, actor=ACTOR, action="staff.enabled" if active else "staff.disabled",
                         now=clock.now(), record_type="staff_user", record_id=user.id)
        address = user.email
    click.echo(f"{address}: {'active' if active else 'disabled'}")


@accounts_cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable the staff user EMAIL: no login, no API tokens (the last active administrator stays)."""
    _set_active(email, False)


@accounts_cli.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Enable the staff user EMAIL again."""
    _set_active(email, True)


@accounts_cli.command("reset-totp")
@click.argument("email")
def reset_totp_command(email: str) -> None:
    """Remove the TOTP second factor of the staff user EMAIL (a lost phone); audited. The user logs in with
    the password and enrols again (administrators in production must)."""
    from app.accounts import totp

    with _transaction() as session:
        user = _staff(session, email, lock=True)
        totp.reset(session, user, now=clock.now(), actor=ACTOR)
        address = user.email
    click.echo(f"{address}: second factor removed")


@libraries_cli.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The library's name")
@click.option("--municipality", default="", help="Its municipality")
def library_add_command(code: str, name: str, municipality: str) -> None:
    """Add a member library CODE (refused if the code exists)."""
    code = code.strip()
    if not code or len(code) > 40:
        raise click.ClickException("the code must be 1–40 characters")
    with _transaction() as session:
        if session.scalar(select(func.count()).select_from(Library).where(Library.code == code)):
            raise click.ClickException(f"a library with code {code!r} already exists")
        lib = service.get_or_create_library(session, code, name.strip(), municipality.strip())
        audit.record(session, actor=ACTOR, action="library.created", now=clock.now(), record_type="library",
                     record_id=lib.id, code=code)
    click.echo(f"added library {code}")


@libraries_cli.command("list")
def library_list_command() -> None:
    """List the member libraries: code, name, municipality."""
    with _transaction() as session:
        for lib in session.scalars(select(Library).order_by(Library.code)):
            click.echo(f"{lib.code}\t{lib.name}\t{lib.municipality}")
