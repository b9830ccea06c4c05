"""`flask --app app sip2 …`: the SIP2 server, its terminal accounts, and self-service settings."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock, db
from app.accounts.models import Patron
from app.circulation import service_selfservice as selfservice
from app.errors import DomainError

ACTOR = "cli"
sip2_cli = AppGroup("sip2", help="The SIP2 server for self-service machines, its terminals and self-service settings.")
terminals_cli = AppGroup("terminals", help="Terminal accounts (kiosks, sorters, door controllers).")
sip2_cli.add_command(terminals_cli)


@contextmanager
def _transaction() -> Iterator[Session]:
    try:
        with db.get_sessionmaker(current_app._get_current_object()).begin() as session:  # type: ignore[attr-defined]
            yield session
    except DomainError as exc:
        raise click.ClickException(f"{exc.code} {exc.params}") from None


@sip2_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=6001, show_default=True, type=click.IntRange(0, 65535))
@click.option("--tls-cert", default=None, type=click.Path(exists=True, dir_okay=False), help="PEM certificate")
@click.option("--tls-key", default=None, type=click.Path(exists=True, dir_okay=False), help="PEM private key")
def serve_command(host: str, port: int, tls_cert: str | None, tls_key: str | None) -> None:
    """Run the SIP2 server until SIGTERM/SIGINT (its own service beside the web app)."""
    from app.circulation.sip2.server import serve, tls_context

    try:
        context = tls_context(tls_cert, tls_key)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"SIP2 server on {host}:{port}" + (" with TLS" if context else ""))
    serve(current_app._get_current_object(), host, port, context)  # type: ignore[attr-defined]


@terminals_cli.command("add")
@click.argument("name")
@click.option("--branch", required=True, metavar="CODE", help="Branch code, or library/branch")
@click.option("--language", default="fi", show_default=True, type=click.Choice(selfservice.TERMINAL_LANGUAGES))
@click.option("--charset", default="utf-8", show_default=True, type=click.Choice(selfservice.TERMINAL_CHARSETS))
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input")
def add_command(name: str, branch: str, language: str, charset: str, password_stdin: bool) -> None:
    """Add a terminal account; the password is asked for (or read from standard input)."""
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _transaction() as session:
        selfservice.add_terminal(session, name=name, password=password, branch=branch, now=clock.now(), actor=ACTOR,
                                 language=language, charset=charset)
    click.echo(f"terminal {name} added")


@terminals_cli.command("list")
def list_command() -> None:
    with _transaction() as session:
        for terminal, branch in selfservice.list_terminals(session):
            state = "enabled" if terminal.enabled else "disabled"
            click.echo(f"{terminal.name}\t{branch.code}\t{terminal.language}\t{terminal.charset}\t{state}")


@terminals_cli.command("disable")
@click.argument("name")
def disable_command(name: str) -> None:
    with _transaction() as session:
        selfservice.set_terminal_enabled(session, name, False, now=clock.now(), actor=ACTOR)
    click.echo(f"terminal {name} disabled")


@terminals_cli.command("enable")
@click.argument("name")
def enable_command(name: str) -> None:
    with _transaction() as session:
        selfservice.set_terminal_enabled(session, name, True, now=clock.now(), actor=ACTOR)
    click.echo(f"terminal {name} enabled")


@sip2_cli.command("hours")
@click.argument("branch")
@click.option("--opens", required=True, help="HH:MM, the branch's local time")
@click.option("--closes", required=True, help="HH:MM")
@click.option("--activation-required", is_flag=True, help="Patrons must be activated at the desk first")
@click.option("--minimum-age", default=selfservice.DEFAULT_MINIMUM_AGE, show_default=True, type=int)
@click.option("--disable", is_flag=True, help="Close the branch to self-service")
def hours_command(branch: str, opens: str, closes: str, activation_required: bool, minimum_age: int,
                  disable: bool) -> None:
    """Set a branch's self-service hours and door rules."""
    with _transaction() as session:
        selfservice.set_branch_self_service(session, branch=branch, opens=opens, closes=closes, enabled=not disable,
                                            requires_activation=activation_required, minimum_age=minimum_age,
                                            now=clock.now(), actor=ACTOR)
    click.echo(f"self-service hours of {branch}: {opens}-{closes}" + (" (disabled)" if disable else ""))


@sip2_cli.command("patron")
@click.argument("card")
@click.option("--terms/--no-terms", default=None, help="The self-service terms accepted (or withdrawn)")
@click.option("--consent/--no-consent", default=None, help="A guardian's consent on file (or withdrawn)")
@click.option("--activated/--not-activated", default=None, help="Activated at the desk (for branches that need it)")
@click.option("--unblock", is_flag=True, help="Clear a block a terminal set (01 block patron)")
def patron_command(card: str, terms: bool | None, consent: bool | None, activated: bool | None,
                   unblock: bool) -> None:
    """Record a patron's self-service standing (the desk's pages use the same service)."""
    with _transaction() as session:
        patron_id = session.scalar(select(Patron.id).where(Patron.card_number == card))
        if patron_id is None:
            raise click.ClickException("no such card")
        selfservice.set_patron_self_service(session, patron_id, now=clock.now(), actor=ACTOR, terms_accepted=terms,
                                            guardian_consent=consent, activated=activated)
        if unblock:
            selfservice.unblock_card(session, patron_id, now=clock.now(), actor=ACTOR)
    click.echo("self-service standing saved")
