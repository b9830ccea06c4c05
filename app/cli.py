"""Command-line commands: `flask --app app demo`; registers `accounts`, `libraries`, `db` and `jobs`."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app import clock, db
from app.accounts.cli import accounts_cli, libraries_cli
from app.config import is_production


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

    for command in (accounts_cli, libraries_cli, demo_command, db_cli, jobs_cli):
        app.cli.add_command(command)
