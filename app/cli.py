"""Command-line commands: `flask --app app demo`, `flask --app app accounts token EMAIL`."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app import clock, db
from app.accounts import service
from app.accounts.models import StaffUser
from app.config import is_production

accounts_cli = AppGroup("accounts", help="Staff accounts and API tokens.")


@accounts_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="A name that says what the token is for")
def token_command(email: str, name: str) -> None:
    """Print a new bearer token for the staff user EMAIL (last line of the output)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with db.get_sessionmaker(app).begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no staff user {email}")
        raw, tok = service.issue_token(session, now=clock.now(), days=app.config["STAFF_TOKEN_DAYS"], staff=user,
                                       name=name)
        click.echo(f"token {tok.id} for {user.email}, expires {tok.expires_at:%Y-%m-%d}", err=True)
    click.echo(raw)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the schema if needed and load the demo data (safe to run again)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if is_production(app.config):
        raise click.ClickException("refusing to load demo data: KUULO_ENV_NAME is production")
    from app.demo import load_demo

    db.create_schema(app)
    summary = load_demo(app, clock.now())
    click.echo("demo data ready: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    click.echo("staff: librarian@demo.kuulo.test … admin@demo.kuulo.test / kuulo-demo-2026; "
               "patrons: 2000000001… / PIN 1234")


def init_app(app: Flask) -> None:
    from app.migrate import db_cli
    from app.scheduler import jobs_cli

    for command in (accounts_cli, demo_command, db_cli, jobs_cli):
        app.cli.add_command(command)
