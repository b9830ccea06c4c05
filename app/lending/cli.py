"""`flask --app app media …`: ingest audiobooks from audio files, list what is in the catalogue."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app import clock, db, storage
from app.lending import ingest
from app.lending.models import Audiobook

media_cli = AppGroup("media", help="Audiobooks: ingest audio files into the catalogue and the media store.")
REASONS = {"empty": "the file is empty", "truncated": "the file is truncated (cut short)",
           "corrupt": "the file is damaged", "unsupported": "not a supported audio file (MP3, M4A, M4B)",
           "unreadable": "the file cannot be read"}


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


@media_cli.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--identifier", default="", help="The book's URI (e.g. urn:isbn:…); only with one PATH")
def ingest_command(paths: tuple[Path, ...], identifier: str) -> None:
    """Ingest each PATH as one audiobook: an MP3/M4A/M4B file or a folder of tracks (DAISY 2.02 too).

    Every file of every book is checked first; if any is refused, nothing is stored. Ingesting a
    book again updates it (same identifier) instead of adding a duplicate.
    """
    if identifier and len(paths) != 1:
        raise click.UsageError("--identifier needs exactly one PATH")
    sources, refused = [], []
    for path in paths:
        try:
            sources.append(ingest.read_source(path, identifier))
        except ingest.IngestError as err:
            refused += err.problems
        except ValueError as err:
            raise click.UsageError(str(err)) from None
    for problem in refused:
        click.echo(f"refused: {problem.file_name}: {REASONS.get(problem.reason, problem.reason)}"
                   + (f" ({problem.detail})" if problem.detail else ""), err=True)
    if refused:
        raise click.ClickException(f"{len(refused)} file(s) refused; nothing was stored")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store, sm, now = storage.store(app), db.get_sessionmaker(app), clock.now()
    for source in sources:
        with click.progressbar(length=source.size, label=source.title[:40], show_percent=True) as bar:
            result = ingest.ingest_committed(sm, store, source, now=now, actor="system:cli", progress=bar.update)
        click.echo(f"{result.status}: {result.title!r} as book {result.book_id} ({result.identifier}), "
                   f"{len(source.tracks)} track(s), {_minutes(source.duration)}, {len(source.toc)} toc entries")


@media_cli.command("list")
def list_command() -> None:
    """List the audiobooks in the catalogue."""
    with db.get_sessionmaker(current_app._get_current_object()).begin() as session:  # type: ignore[attr-defined]
        for book in session.scalars(select(Audiobook).order_by(Audiobook.id)):
            click.echo(f"{book.id:5}  {book.title}  —  {book.author or '?'}  [{book.identifier}]  "
                       f"{_minutes(book.duration)}{'' if book.available else '  (withdrawn)'}")


@media_cli.command("withdraw")
@click.argument("book_id", type=int)
def withdraw_command(book_id: int) -> None:
    """Withdraw book BOOK_ID from new loans (current loans run to their due date)."""
    _set_available(book_id, False)


@media_cli.command("restore")
@click.argument("book_id", type=int)
def restore_command(book_id: int) -> None:
    """Bring withdrawn book BOOK_ID back into the catalogue."""
    _set_available(book_id, True)


def _set_available(book_id: int, available: bool) -> None:
    from app.errors import DomainError
    from app.lending import service

    try:
        with db.get_sessionmaker(current_app._get_current_object()).begin() as session:  # type: ignore[attr-defined]
            book = service.set_available(session, book_id, available, now=clock.now(), actor="system:cli")
            title = book.title
    except DomainError:
        raise click.ClickException(f"no audiobook has the id {book_id} (see `flask --app app media list`)") from None
    click.echo(f"{'in the catalogue' if available else 'withdrawn'}: {title!r} (book {book_id})")
