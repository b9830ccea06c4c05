"""Builders for catalogue tests: MARC files written with pymarc, imported through the CLI."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pymarc import Record

from app.catalogue import marc


def book(control: str, title: str, *, author: str = "Kirjailija, Kaija", isbn: str = "", subjects: tuple[str, ...] = (),
         year: int = 2020, language: str = "fin", holdings: tuple[marc.Holding, ...] = (), **extra: Any) -> Record:
    return marc.build(control=control, title=title, author=author, isbn=isbn, subjects=subjects, year=year,
                      language=language, holdings=holdings, **extra)


def write(path: Path, *records: Record) -> Path:
    path.write_bytes(marc.to_marc(records))
    return path


def run_import(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["catalogue", "import", *args])
