"""`flask --app app catalogue …`: import MARC 21 files, export MARCXML, index lending's audiobooks."""
from __future__ import annotations

import sys
from itertools import islice
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app import clock, db
from app.catalogue import marc, service

catalogue_cli = AppGroup("catalogue", help="The library catalogue: MARC 21 import and export, search index.")
BATCH = 500


@catalogue_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change; store nothing.")
@click.option("--holdings", "holdings_tag", default=None, metavar="TAG [PART=CODE…]",
              help="The holdings field: 952 (Koha) or 852, optionally with remapped subfields "
                   "(\"952 branch=b price=g\"). Default: the setting CATALOGUE_HOLDINGS_TAG (952).")
@click.option("--library", "library_code", default=None, help="The circulation library of the holdings' branches "
              "(needed only when several libraries use the same branch code).")
@click.option("--batch-size", default=BATCH, show_default=True, type=click.IntRange(1, 10_000))
def import_command(paths: tuple[Path, ...], dry_run: bool, holdings_tag: str | None, library_code: str | None,
                   batch_size: int) -> None:
    """Import MARC 21 records (ISO 2709 in MARC-8 or UTF-8, or MARCXML) from each PATH.

    Records are matched by control number (001 with 003, else 035): a record imported again is updated
    if it changed and left alone if not. Holdings (952 or 852) create or update circulation's copies.
    A record that cannot be read is reported and skipped; each batch is stored whole or not at all.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        tag, layout = marc.holdings_setting(holdings_tag or app.config.get("CATALOGUE_HOLDINGS_TAG", "952"))
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--holdings or CATALOGUE_HOLDINGS_TAG") from None
    sm, now = db.get_sessionmaker(app), clock.now()
    total = service.ImportReport()
    for path in paths:
        with open(path, "rb") as stream, click.progressbar(
                length=max(path.stat().st_size, 1), label=path.name, file=sys.stderr, show_pos=False,
                item_show_func=lambda text: text) as bar:
            records, done = marc.read(stream, holdings_tag=tag, layout=layout), 0
            while batch := list(islice(records, batch_size)):
                session = sm()
                try:
                    report = service.import_batch(session, batch, now=now, library_code=library_code)
                    session.rollback() if dry_run else session.commit()
                except Exception:
                    session.rollback()
                    click.echo(f"\n{path.name}: the batch of records {batch[0].position}–{batch[-1].position} "
                               "failed; nothing of it was stored", err=True)
                    raise
                finally:
                    session.close()
                for skipped in report.skipped:
                    click.echo(f"\nskipped: {path.name} record {skipped.position} (control number "
                               f"{skipped.control_number or 'unknown'}): {skipped.reason}", err=True)
                total.add(report)
                position = stream.tell()
                bar.update(position - done, f"{total.read} read, {total.created} new, {total.updated} updated, "
                                            f"{total.unchanged} unchanged, {len(total.skipped)} skipped")
                done = position
    verb = "would be" if dry_run else "were"
    click.echo(f"{'dry run: ' if dry_run else ''}{total.read} records read: {total.created} {verb} added, "
               f"{total.updated} {verb} updated, {total.unchanged} unchanged, {len(total.skipped)} skipped; "
               f"copies: {total.items_created} new, {total.items_updated} updated")


@catalogue_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True), default="-")
def export_command(path: Path) -> None:
    """Write every imported record as MARCXML to PATH (default: standard output)."""
    sm = db.get_sessionmaker(current_app._get_current_object())  # type: ignore[attr-defined]
    with sm() as session:
        if str(path) == "-":
            count = marc.write_xml(service.export_xml(session), sys.stdout.buffer)
        else:
            with open(path, "wb") as out:
                count = marc.write_xml(service.export_xml(session), out)
    click.echo(f"exported {count} records", err=True)


@catalogue_cli.command("index-audiobooks")
def index_command() -> None:
    """Bring lending's audiobooks into the catalogue (material type e-audiobook)."""
    sm = db.get_sessionmaker(current_app._get_current_object())  # type: ignore[attr-defined]
    with sm.begin() as session:
        counts = service.index_audiobooks(session, clock.now())
    click.echo(f"audiobooks: {counts['indexed']} indexed, {counts['removed']} removed")
